#!/usr/bin/python3
"""A small aioxmpp client driven line by line, for Herald's interop tests (a second, independent library).

usage: aio_client.py JID PASSWORD HOST PORT
stdin: subscribe JID | approve JID | presence SHOW|- [STATUS...] | quit
stdout: ready | presence FROM available|unavailable SHOW STATUS | subscribe FROM | ok CMD | failed REASON
Exits by itself after 120 seconds at the latest.
"""
import asyncio
import sys

import aioxmpp
import aioxmpp.connector
import aioxmpp.security_layer


def out(*parts):
    print(" ".join(str(p) for p in parts), flush=True)


SHOWS = {"-": aioxmpp.PresenceShow.NONE, "chat": aioxmpp.PresenceShow.CHAT, "away": aioxmpp.PresenceShow.AWAY,
         "xa": aioxmpp.PresenceShow.XA, "dnd": aioxmpp.PresenceShow.DND}


def show_name(show):
    for k, v in SHOWS.items():
        if v == show:
            return k
    return "-"


def status_text(stanza):
    if not stanza.status:
        return ""
    return next(iter(stanza.status.values()))


async def main():
    jid, password, host, port = sys.argv[1:5]
    client = aioxmpp.PresenceManagedClient(
        aioxmpp.JID.fromstr(jid),
        aioxmpp.make_security_layer(password, no_verify=True),  # Herald's self-signed certificate (tests only)
        override_peer=[(host, int(port), aioxmpp.connector.STARTTLSConnector())],
    )
    presence = client.summon(aioxmpp.PresenceClient)
    roster = client.summon(aioxmpp.RosterClient)
    presence.on_available.connect(lambda full, st: out("presence", full.bare(), "available", show_name(st.show), status_text(st)))
    presence.on_changed.connect(lambda full, st: out("presence", full.bare(), "available", show_name(st.show), status_text(st)))
    presence.on_unavailable.connect(lambda full, st: out("presence", full.bare(), "unavailable", "-", status_text(st)))
    roster.on_subscribe.connect(lambda st: out("subscribe", st.from_.bare()))
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        async with client.connected():
            client.presence = aioxmpp.PresenceState(True)
            out("ready")
            while True:
                line = (await reader.readline()).decode().strip()
                if not line:
                    break
                parts = line.split(" ")
                cmd, args = parts[0], parts[1:]
                if cmd == "subscribe":
                    roster.subscribe(aioxmpp.JID.fromstr(args[0]))
                elif cmd == "approve":
                    roster.approve(aioxmpp.JID.fromstr(args[0]))
                elif cmd == "presence":
                    client.set_presence(aioxmpp.PresenceState(True, SHOWS[args[0]]), " ".join(args[1:]) or None)
                elif cmd == "quit":
                    out("ok", cmd)
                    break
                out("ok", cmd)
    except Exception as e:  # noqa: BLE001 - report anything as a line the test can read
        out("failed", type(e).__name__, str(e).replace("\n", " "))
    out("closed")


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), 120))
    except asyncio.TimeoutError:
        out("closed")
