/* slotkeeper: a plan - its lifetime, the reasons and refusal the planner writes into it, and how
 * its effect and refusal are reported (sk-plan.h). */
#include "sk-plan.h"

#include <string.h>

static void
sk_new_controller_free(SkNewController *ctrl)
{
    g_free(ctrl->purpose);
    g_free(ctrl);
}

static void
sk_companion_free(SkCompanion *comp)
{
    sk_device_free(comp->device);
    g_free(comp->type);
    g_free(comp->model);
    g_free(comp->purpose);
    g_free(comp);
}

SkPlan *
sk_plan_new(void)
{
    SkPlan *plan = g_new0(SkPlan, 1);

    plan->controllers = g_ptr_array_new_with_free_func((GDestroyNotify)sk_new_controller_free);
    plan->reasons = g_ptr_array_new_with_free_func(g_free);
    plan->companions = g_ptr_array_new_with_free_func((GDestroyNotify)sk_companion_free);
    return plan;
}

void
sk_plan_free(SkPlan *plan)
{
    if (plan == NULL)
        return;
    g_free(plan->refusal);
    g_free(plan->remedy);
    g_ptr_array_unref(plan->controllers);
    g_ptr_array_unref(plan->reasons);
    g_ptr_array_unref(plan->companions);
    g_free(plan);
}

void
sk_plan_reason(SkPlan *plan, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    g_ptr_array_add(plan->reasons, g_strdup_vprintf(fmt, args));
    va_end(args);
}

void
sk_plan_refuse(SkPlan *plan, SkErrorCode code, const char *remedy, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    plan->refused = TRUE;
    plan->refusal_code = code;
    g_free(plan->refusal);
    plan->refusal = g_strdup_vprintf(fmt, args);
    g_free(plan->remedy);
    plan->remedy = g_strdup(remedy);
    va_end(args);
}

gboolean
sk_plan_check(const SkPlan *plan, GError **error)
{
    if (!plan->refused)
        return TRUE;
    if (plan->remedy != NULL)
        g_set_error(error, SK_ERROR, plan->refusal_code, "%s; %s", plan->refusal, plan->remedy);
    else
        g_set_error_literal(error, SK_ERROR, plan->refusal_code, plan->refusal);
    return FALSE;
}

const char *
sk_plan_effect_to_string(SkPlanEffect effect)
{
    switch (effect) {
    case SK_PLAN_EFFECT_NOW:
        return "now";
    case SK_PLAN_EFFECT_NEXT_BOOT:
        return "next-boot";
    case SK_PLAN_EFFECT_NONE:
    default:
        return "none";
    }
}

void
sk_plan_options_init(SkPlanOptions *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->hotplug_require = TRUE;
    sk_policy_init(&opts->policy);
}
