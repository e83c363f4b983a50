"""A stand-in polkit authority for the authorization tests: it owns
org.freedesktop.PolicyKit1 on a private bus and answers CheckAuthorization the way polkitd
does (same signature, subject resolved to a uid through the bus), by rules the test writes.

    mockpolkit.py BUS_ADDRESS RULES.json LOG.jsonl

RULES.json (re-read on every call): {"<uid>": ANSWER, "default": ANSWER} with ANSWER one of
  yes        authorized
  no         not authorized
  auth       authorized only if the call allows user interaction (an agent said yes),
             otherwise a challenge (is_challenge=true)
  dismiss    the user dismissed the dialog (polkit.dismissed=true), or a challenge without
             user interaction
Every request is appended to LOG.jsonl: uid, action, details, flags, subject kind.
It prints "ready" once it owns the name.
"""

import json
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

XML = """
<node>
  <interface name="org.freedesktop.PolicyKit1.Authority">
    <method name="CheckAuthorization">
      <arg type="(sa{sv})" name="subject" direction="in"/>
      <arg type="s" name="action_id" direction="in"/>
      <arg type="a{ss}" name="details" direction="in"/>
      <arg type="u" name="flags" direction="in"/>
      <arg type="s" name="cancellation_id" direction="in"/>
      <arg type="(bba{ss})" name="result" direction="out"/>
    </method>
  </interface>
</node>
"""

ALLOW_USER_INTERACTION = 1


def main():
    address, rules_path, log_path = sys.argv[1:4]
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    conn = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
    node = Gio.DBusNodeInfo.new_for_xml(XML)

    def uid_of(name):
        reply = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionUnixUser",
                               GLib.Variant("(s)", (name,)), GLib.VariantType("(u)"), 0, 5000,
                               None)
        return reply.unpack()[0]

    def on_call(conn_, sender, path, iface, method, params, invocation):
        (kind, subject), action, details, call_flags, _cancel = params.unpack()
        if kind != "system-bus-name" or "name" not in subject:
            invocation.return_dbus_error("org.freedesktop.PolicyKit1.Error.Failed",
                                         f"unsupported subject {kind}")
            return
        uid = uid_of(subject["name"])
        with open(rules_path) as f:
            rules = json.load(f)
        answer = rules.get(str(uid), rules.get("default", "no"))
        interactive = bool(call_flags & ALLOW_USER_INTERACTION)
        with open(log_path, "a") as f:
            f.write(json.dumps({"uid": uid, "action": action, "details": details,
                                "flags": call_flags, "caller": sender}) + "\n")
        result_details = {}
        if answer == "yes":
            result = (True, False)
        elif answer == "auth":
            result = (True, False) if interactive else (False, True)
        elif answer == "dismiss":
            result = (False, not interactive)
            if interactive:
                result_details["polkit.dismissed"] = "true"
        else:
            result = (False, False)
        invocation.return_value(GLib.Variant("((bba{ss}))", ((result[0], result[1],
                                                              result_details),)))

    conn.register_object("/org/freedesktop/PolicyKit1/Authority", node.interfaces[0], on_call,
                         None, None)
    loop = GLib.MainLoop()

    def acquired(*_):
        print("ready", flush=True)

    def lost(*_):
        print("cannot own org.freedesktop.PolicyKit1", file=sys.stderr, flush=True)
        loop.quit()

    Gio.bus_own_name_on_connection(conn, "org.freedesktop.PolicyKit1",
                                   Gio.BusNameOwnerFlags.NONE, acquired, lost)
    loop.run()
    return 1


if __name__ == "__main__":
    sys.exit(main())
