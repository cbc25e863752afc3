#!/usr/bin/python3
"""A small slixmpp client driven line by line, for Herald's interop tests.

usage: slix_client.py JID PASSWORD HOST PORT MECHANISM [--no-tls] [--pep]

--pep loads XEP-0115 caps, XEP-0163 PEP, XEP-0080 geoloc and XEP-0108 activity (the caps then advertise
geoloc+notify and activity+notify) and enables the geoloc/activity commands and events.

stdin commands (one per line):
  subscribe JID | approve JID | deny JID | unsubscribe JID
  presence SHOW|- [STATUS...]   (SHOW: chat away xa dnd, '-' for plain available)
  unavailable
  message JID BODY...
  roster
  geoloc KEY=VALUE...           (--pep: publish a location, e.g. country=DE locality=Berlin lat=52.5 lon=13.4)
  geolocstop | activitystop     (--pep: publish the empty element)
  activity GENERAL SPECIFIC [TEXT...]  (--pep: publish an activity)
  quit
stdout events (one per line, flushed):
  ready | failed REASON
  presence FROM TYPE SHOW STATUS        (TYPE available/unavailable; SHOW '-' when absent)
  subscribe FROM | subscribed FROM | unsubscribed FROM
  message FROM TYPE BODY                (TYPE error: BODY is the error text)
  roster JID SUBSCRIPTION ASK
  geoloc FROM KEY=VALUE...              (--pep: a notification; '-' for the empty geoloc)
  activity FROM GENERAL/SPECIFIC TEXT   (--pep: a notification; '-' for the empty activity)
  published NODE | publisherror NODE CONDITION TEXT
  rosterpush JID SUBSCRIPTION ASK
  closed
The script exits by itself after 120 seconds at the latest.
"""
import asyncio
import logging
import ssl
import sys
import threading

import slixmpp
import slixmpp.exceptions


def out(*parts):
    print(" ".join(str(p) for p in parts), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, mechanism, pep=False):
        super().__init__(jid, password)
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.pep = pep
        if pep:
            for plugin in ("xep_0115", "xep_0060", "xep_0163", "xep_0080", "xep_0108"):
                self.register_plugin(plugin)
            self.add_event_handler("user_location_publish", self.on_geoloc)
            self.add_event_handler("user_activity_publish", self.on_activity)
        self["feature_mechanisms"].use_mech = mechanism
        self["feature_mechanisms"].unencrypted_plain = True
        self["feature_mechanisms"].unencrypted_scram = True
        # Herald generates a self-signed certificate: accept it (tests only).
        self.ssl_context = ssl.create_default_context()
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.auto_authorize = None  # we answer subscription requests ourselves
        self.auto_subscribe = False
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", lambda _: out("failed", "auth"))
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("presence_subscribe", lambda p: out("subscribe", p["from"].bare))
        self.add_event_handler("presence_subscribed", lambda p: out("subscribed", p["from"].bare))
        self.add_event_handler("presence_unsubscribed", lambda p: out("unsubscribed", p["from"].bare))
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("message_error", self.on_message)
        self.add_event_handler("roster_update", self.on_roster_push)
        self.add_event_handler("disconnected", lambda _: out("closed"))
        self.add_event_handler("stream_error", lambda e: out("streamerror", e["condition"]))

    def get_ssl_context(self):
        return self.ssl_context

    async def on_start(self, _):
        await self.get_roster()
        out("ready")

    def on_presence(self, p):
        if p["type"] in ("subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"):
            return
        status = (p["status"] or "").replace("\n", " ")
        out("presence", p["from"].bare, "unavailable" if p["type"] == "unavailable" else "available", p["show"] or "-", status)

    def on_message(self, m):
        if m["type"] == "error":
            out("message", m["from"].bare, "error", m["error"]["condition"], (m["error"]["text"] or "").replace("\n", " "))
        else:
            out("message", m["from"].bare, m["type"], m["body"].replace("\n", " "))

    def on_geoloc(self, msg):
        geo = msg["pubsub_event"]["items"]["item"]["geoloc"]
        fields = sorted("%s=%s" % (child.tag.split("}")[-1], (child.text or "").replace(" ", "_")) for child in geo.xml)
        out("geoloc", msg["from"].bare, " ".join(fields) or "-")

    def on_activity(self, msg):
        act = msg["pubsub_event"]["items"]["item"]["activity"]
        general, specific = act["value"]
        out("activity", msg["from"].bare, ("%s/%s" % (general, specific or "-")) if general else "-", act["text"] or "-")

    async def publish(self, node, future):
        try:
            await future
            out("published", node)
        except slixmpp.exceptions.IqError as e:
            out("publisherror", node, e.iq["error"]["condition"], (e.iq["error"]["text"] or "").replace("\n", " "))

    def on_roster_push(self, iq):
        for jid, item in iq["roster"]["items"].items():
            out("rosterpush", jid, item["subscription"], "subscribe" if item["ask"] else "-")

    async def command(self, line):
        parts = line.strip().split(" ")
        cmd, args = parts[0], parts[1:]
        if cmd == "subscribe":
            self.send_presence(pto=args[0], ptype="subscribe")
        elif cmd == "approve":
            self.send_presence(pto=args[0], ptype="subscribed")
        elif cmd == "deny":
            self.send_presence(pto=args[0], ptype="unsubscribed")
        elif cmd == "unsubscribe":
            self.send_presence(pto=args[0], ptype="unsubscribe")
        elif cmd == "presence":
            show = None if args[0] == "-" else args[0]
            self.send_presence(pshow=show, pstatus=" ".join(args[1:]) or None)
        elif cmd == "unavailable":
            self.send_presence(ptype="unavailable")
        elif cmd == "message":
            self.send_message(mto=args[0], mbody=" ".join(args[1:]), mtype="chat")
        elif cmd == "roster":
            await self.get_roster()
            roster = self.client_roster
            for jid in roster:
                item = roster[jid]
                out("roster", jid, item["subscription"], "subscribe" if item["pending_out"] else "-")
            out("rosterdone")
        elif cmd == "geoloc":
            values = {}
            for a in args:
                k, v = a.split("=", 1)
                values[k] = float(v) if k in ("lat", "lon") else v
            await self.publish("geoloc", self["xep_0080"].publish_location(**values))
        elif cmd == "geolocstop":
            await self.publish("geoloc", self["xep_0080"].stop())
        elif cmd == "activity":
            await self.publish("activity", self["xep_0108"].publish_activity(args[0], args[1], " ".join(args[2:]) or None))
        elif cmd == "activitystop":
            await self.publish("activity", self["xep_0108"].stop())
        elif cmd == "quit":
            self.disconnect()
        out("ok", cmd)


def main():
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    jid, password, host, port, mechanism = sys.argv[1:6]
    no_tls = "--no-tls" in sys.argv
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    client = Client(jid, password, mechanism, pep="--pep" in sys.argv)
    if no_tls:
        client["feature_starttls"]  # loaded; we simply do not require TLS
        client.force_starttls = False
        client.disable_starttls = True

    def read_stdin():
        for line in sys.stdin:
            if line.strip():
                asyncio.run_coroutine_threadsafe(client.command(line), loop)
        loop.call_soon_threadsafe(client.disconnect)

    threading.Thread(target=read_stdin, daemon=True).start()
    client.connect(address=(host, int(port)))
    loop.call_later(120, loop.stop)
    client.add_event_handler("disconnected", lambda _: loop.call_later(0.2, loop.stop))
    loop.run_forever()


if __name__ == "__main__":
    main()
