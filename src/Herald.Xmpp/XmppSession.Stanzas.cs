using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Herald.Cluster.Fanout;
using Herald.Cluster.Presence;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;

namespace Herald.Xmpp;

/// <summary>The stanzas of a bound session: IQs (roster, disco, ping, last activity, blocking), presence, messages.</summary>
internal sealed partial class XmppSession
{
    // ---------------------------------------------------------------- IQ

    private async Task OnIq(XElement iq)
    {
        var type = (string?)iq.Attribute("type");
        var to = (string?)iq.Attribute("to");
        if (type is not ("get" or "set" or "result" or "error") || (type is "get" or "set" && (iq.Attribute("id") is null || iq.Elements().Count() != 1)))
        {
            if (type is "get" or "set")
            {
                await SendIqError(iq, "modify", "bad-request");
            }
            return;
        }
        var payload = iq.Elements().FirstOrDefault();
        if (!_bound)
        {
            if (type == "set" && payload?.Name == BindNs + "bind")
            {
                await Bind(iq);
            }
            else if (type is "get" or "set")
            {
                await SendIqError(iq, "auth", "not-authorized", "bind a resource first");
            }
            return;
        }
        try
        {
            // Addressed to another person's resource (or a result/error coming back): route it.
            if (!IsServer(to) && !IsSelfBare(to) && ParseJid(to) is { Resource: not null } && LocalUser(to) is not null)
            {
                await RouteToResource(iq, to!);
                return;
            }
            if (type is "result" or "error")
            {
                AnswerToOwnQuery(iq, to);
                return;
            }
            var name = payload!.Name;
            if (name == SessionNs + "session")
            {
                await SendIq(iq, null);
            }
            else if (name == BindNs + "bind")
            {
                await SendIqError(iq, "cancel", "not-allowed", "already bound");
            }
            else if (name == PingNs + "ping")
            {
                await SendIq(iq, null);
            }
            else if (name == Ns.Roster + "query" && (IsServer(to) || IsSelfBare(to)))
            {
                await (type == "get" ? RosterGet(iq) : RosterSet(iq));
            }
            else if (name == DiscoInfo + "query" && type == "get")
            {
                await DiscoInfoQuery(iq, to);
            }
            else if (name == DiscoItems + "query" && type == "get")
            {
                await SendIq(iq, new XElement(DiscoItems + "query", payload.Attribute("node")));
            }
            else if (name == LastNs + "query" && type == "get")
            {
                await LastActivity(iq, to);
            }
            else if (name == Ns.PubSub + "pubsub" && !string.Equals(to, Domain, StringComparison.OrdinalIgnoreCase))
            {
                await PepRequest(iq, type, payload);
            }
            else if (name.Namespace == BlockingNs && (IsServer(to) || IsSelfBare(to)))
            {
                await Blocking(iq, type, payload);
            }
            else
            {
                await SendIqError(iq, "cancel", "service-unavailable");
            }
        }
        catch (PresenceLimitException ex)
        {
            await SendIqError(iq, "modify", "policy-violation", ex.Message);
        }
        catch (Exception ex) when (ex is not XmppStreamException and not IOException)
        {
            LogStanzaFailed(_gw.Logger, ex, UserId);
            await SendIqError(iq, "wait", "internal-server-error");
        }
    }

    private async Task DiscoInfoQuery(XElement iq, string? to)
    {
        var node = iq.Elements().First().Attribute("node");
        var query = new XElement(DiscoInfo + "query", node);
        if (IsServer(to))
        {
            query.Add(new XElement(DiscoInfo + "identity", new XAttribute("category", "server"), new XAttribute("type", "im"), new XAttribute("name", "Herald")));
            foreach (var f in new[] { DiscoInfo.NamespaceName, DiscoItems.NamespaceName, PingNs.NamespaceName, LastNs.NamespaceName, BlockingNs.NamespaceName,
                "jabber:iq:roster", "urn:xmpp:csi:0", "urn:xmpp:idle:1", "urn:xmpp:features:rosterver", "urn:xmpp:features:pre-approval" })
            {
                query.Add(new XElement(DiscoInfo + "feature", new XAttribute("var", f)));
            }
        }
        else if (LocalUser(to) is { } user && await _gw.Directory.GetPerson(user) is not null)
        {
            // The account itself (XEP-0030 section 3.2 on behalf of a bare JID).
            query.Add(new XElement(DiscoInfo + "identity", new XAttribute("category", "account"), new XAttribute("type", "registered")));
            // XEP-0163: the account is a PEP service (geoloc and activity nodes only, see PepRequest).
            query.Add(new XElement(DiscoInfo + "identity", new XAttribute("category", "pubsub"), new XAttribute("type", "pep")));
            foreach (var f in new[] { DiscoInfo.NamespaceName, LastNs.NamespaceName, Ns.PubSub.NamespaceName, Ns.PubSub.NamespaceName + "#publish",
                Ns.PubSub.NamespaceName + "#retrieve-items", Ns.PubSub.NamespaceName + "#publish-options" })
            {
                query.Add(new XElement(DiscoInfo + "feature", new XAttribute("var", f)));
            }
        }
        else
        {
            await SendIqError(iq, "cancel", "item-not-found");
            return;
        }
        await SendIq(iq, query);
    }

    /// <summary>XEP-0012: the server's uptime, or a contact's last activity as the asker may see it (forbidden otherwise).</summary>
    private async Task LastActivity(XElement iq, string? to)
    {
        if (IsServer(to))
        {
            var up = (long)(_gw.Time.GetUtcNow() - _gw.StartedAt).TotalSeconds;
            await SendIq(iq, new XElement(LastNs + "query", new XAttribute("seconds", up)));
            return;
        }
        if (LocalUser(to) is not { } user || await _gw.Directory.GetPerson(user) is null)
        {
            await SendIqError(iq, "cancel", "item-not-found");
            return;
        }
        var view = user == UserId ? null : await _gw.Person(user).GetViewFor(UserId, "xmpp");
        var online = view is null || view.Availability is not (Availability.Offline or Availability.Unknown);
        if (!online && view!.LastSeen is null)
        {
            await SendIqError(iq, "auth", "forbidden", "last activity is not disclosed");
            return;
        }
        var seconds = online ? 0 : Math.Max(0, (long)(_gw.Time.GetUtcNow() - view!.LastSeen!.Value).TotalSeconds);
        await SendIq(iq, new XElement(LastNs + "query", new XAttribute("seconds", seconds), view?.Note));
    }

    // ---------------------------------------------------------------- blocking (XEP-0191) ↔ Blocked tier

    private async Task Blocking(XElement iq, string type, XElement payload)
    {
        var person = _gw.Person(UserId);
        var privacy = await person.GetPrivacy();
        if (type == "get" && payload.Name.LocalName == "blocklist")
        {
            var list = new XElement(BlockingNs + "blocklist");
            foreach (var (id, w) in privacy.Watchers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (w.Tier == RelationshipTier.Blocked)
                {
                    list.Add(new XElement(BlockingNs + "item", new XAttribute("jid", $"{id}@{Domain}")));
                }
            }
            await SendIq(iq, list);
            return;
        }
        if (type != "set" || payload.Name.LocalName is not ("block" or "unblock"))
        {
            await SendIqError(iq, "cancel", "bad-request");
            return;
        }
        var block = payload.Name.LocalName == "block";
        var jids = payload.Elements(BlockingNs + "item").Select(i => (string?)i.Attribute("jid")).ToList();
        if (block && jids.Count == 0)
        {
            await SendIqError(iq, "modify", "bad-request", "name at least one JID");
            return;
        }
        var ids = new List<string>();
        foreach (var jid in jids)
        {
            if (LocalUser(jid) is not { } id || id == UserId)
            {
                await SendIqError(iq, "modify", "jid-malformed", "only people of this server can be blocked");
                return;
            }
            ids.Add(id);
        }
        var watchers = new Dictionary<string, WatcherRules>(privacy.Watchers, StringComparer.Ordinal);
        if (block)
        {
            foreach (var id in ids)
            {
                watchers[id] = (watchers.GetValueOrDefault(id) ?? new WatcherRules()) with { Tier = RelationshipTier.Blocked };
            }
        }
        else
        {
            foreach (var id in ids.Count > 0 ? ids : [.. watchers.Where(kv => kv.Value.Tier == RelationshipTier.Blocked).Select(kv => kv.Key)])
            {
                if (watchers.TryGetValue(id, out var w) && w.Tier == RelationshipTier.Blocked)
                {
                    if (w.Rules is null)
                    {
                        watchers.Remove(id);
                    }
                    else
                    {
                        watchers[id] = w with { Tier = null };
                    }
                }
            }
        }
        await person.SetPrivacy(privacy with { Watchers = watchers });
        await SendIq(iq, null);
        // Push the change to every resource of the person (XEP-0191 section 3.3).
        foreach (var s in _gw.SessionsOf(UserId))
        {
            s.Enqueue(new XElement(Ns.Client + "iq", new XAttribute("type", "set"), new XAttribute("id", "push-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4))),
                new XAttribute("to", s.FullJid), new XElement(payload)));
        }
    }

    private async Task<bool> Blocks(string ownerId, string otherId)
    {
        var privacy = await _gw.Person(ownerId).GetPrivacy();
        return privacy.Watchers.TryGetValue(otherId, out var w) && w.Tier == RelationshipTier.Blocked;
    }

    // ---------------------------------------------------------------- roster

    private async Task<List<XElement>> RosterItems()
    {
        var person = _gw.Person(UserId);
        var contacts = await person.GetContacts();
        var myWatchers = (await person.GetWatchers()).ToDictionary(w => w.WatcherId, StringComparer.Ordinal);
        var ids = contacts.Concat(myWatchers.Values.Where(w => w.Status == SubscriptionStatus.Approved).Select(w => w.WatcherId))
            .Distinct(StringComparer.Ordinal).Take(_gw.Options.MaxRosterItems).ToList();
        var items = new XElement[ids.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            items[i] = await RosterItem(ids[i], contacts.Contains(ids[i]), myWatchers.GetValueOrDefault(ids[i])));
        return [.. items];
    }

    /// <summary>
    /// One roster item: <c>to</c> when the contact approved this person (a polite block looks like a request still
    /// pending: <c>ask='subscribe'</c> forever), <c>from</c> when this person approved the contact.
    /// </summary>
    private async Task<XElement> RosterItem(string contactId, bool isContact, WatcherInfo? theirWatch)
    {
        var mine = isContact ? (await _gw.Person(contactId).GetWatchers()).FirstOrDefault(w => w.WatcherId == UserId) : null;
        var to = mine?.Status == SubscriptionStatus.Approved;
        var ask = mine?.Status is SubscriptionStatus.Pending or SubscriptionStatus.PoliteBlocked;
        var from = theirWatch?.Status == SubscriptionStatus.Approved;
        var sub = (to, from) switch { (true, true) => "both", (true, false) => "to", (false, true) => "from", _ => "none" };
        var item = new XElement(Ns.Roster + "item", new XAttribute("jid", $"{contactId}@{Domain}"), new XAttribute("subscription", sub));
        if (ask)
        {
            item.Add(new XAttribute("ask", "subscribe"));
        }
        if (theirWatch?.Status == SubscriptionStatus.Pending)
        {
            item.Add(new XAttribute("approved", "false"));
        }
        return item;
    }

    private static string RosterVersion(IEnumerable<XElement> items)
    {
        var text = string.Join("\n", items.Select(i => i.ToString(SaveOptions.DisableFormatting)).Order(StringComparer.Ordinal));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();
    }

    private async Task RosterGet(XElement iq)
    {
        _interested = true;
        var items = await RosterItems();
        foreach (var i in items)
        {
            _rosterJids[(string)i.Attribute("jid")!] = 0;
        }
        var ver = RosterVersion(items);
        var requested = (string?)iq.Elements().First().Attribute("ver");
        if (requested == ver)
        {
            await SendIq(iq, null); // RFC 6121 2.6.3: unchanged, no items
            return;
        }
        await SendIq(iq, new XElement(Ns.Roster + "query", new XAttribute("ver", ver), items));
    }

    private async Task RosterSet(XElement iq)
    {
        var items = iq.Elements().First().Elements(Ns.Roster + "item").ToList();
        if (items.Count != 1 || LocalUser((string?)items[0].Attribute("jid")) is not { } contactId || ParseJid((string?)items[0].Attribute("jid"))?.Resource is not null)
        {
            await SendIqError(iq, "modify", "bad-request", "exactly one item with a bare JID of this server");
            return;
        }
        if (contactId == UserId)
        {
            await SendIqError(iq, "cancel", "not-allowed", "you are always on your own roster");
            return;
        }
        if ((string?)items[0].Attribute("subscription") == "remove")
        {
            var person = _gw.Person(UserId);
            var removed = await person.RemoveContact(contactId);
            // Removing an item cancels the subscriptions both ways (RFC 6121 2.5.2).
            var them = _gw.Person(contactId);
            if ((await them.GetWatchers()).Any(w => w.WatcherId == UserId && w.Status is SubscriptionStatus.Approved or SubscriptionStatus.Pending))
            {
                await them.RevokeWatcher(UserId);
                removed = true;
            }
            if ((await person.GetWatchers()).Any(w => w.WatcherId == contactId && w.Status is SubscriptionStatus.Approved or SubscriptionStatus.Pending))
            {
                await person.RevokeWatcher(contactId);
                SendToPerson(contactId, PresenceFrom(BareJid, "unsubscribed"));
                removed = true;
            }
            if (!removed)
            {
                await SendIqError(iq, "cancel", "item-not-found");
                return;
            }
            await SendIq(iq, null);
            return;
        }
        if (await _gw.Directory.GetPerson(contactId) is null)
        {
            await SendIqError(iq, "cancel", "item-not-found", "no such person");
            return;
        }
        await _gw.Person(UserId).AddContact(contactId);
        await SendIq(iq, null);
        await WatchOnAllSessions(contactId);
    }

    private async Task WatchOnAllSessions(string contactId)
    {
        foreach (var s in _gw.SessionsOf(UserId))
        {
            await s.Watch(contactId);
        }
    }

    /// <summary>A roster change made through another channel (REST, the web): push it.</summary>
    private async Task RosterChanged(UserEvent e)
    {
        try
        {
            using var doc = JsonDocument.Parse(e.Json);
            if (doc.RootElement.TryGetProperty("contactId", out var c) && c.GetString() is { } contactId && _interested)
            {
                var all = await RosterItems();
                var jid = $"{contactId}@{Domain}";
                var item = all.FirstOrDefault(i => (string?)i.Attribute("jid") == jid);
                if (item is null && !_rosterJids.ContainsKey(jid))
                {
                    return; // not on the roster before or now (e.g. an incoming request): nothing to push
                }
                item ??= new XElement(Ns.Roster + "item", new XAttribute("jid", jid), new XAttribute("subscription", "remove"));
                if (item.Attribute("subscription")!.Value == "remove")
                {
                    _rosterJids.TryRemove(jid, out _);
                }
                else
                {
                    _rosterJids[jid] = 0;
                }
                Enqueue(new XElement(Ns.Client + "iq", new XAttribute("type", "set"), new XAttribute("id", "push-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4))),
                    new XAttribute("to", FullJid), new XElement(Ns.Roster + "query", new XAttribute("ver", RosterVersion(all)), item)));
                if ((string?)item.Attribute("subscription") == "remove")
                {
                    Unwatch(contactId);
                }
                else
                {
                    await Watch(contactId);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStanzaFailed(_gw.Logger, ex, UserId);
        }
    }

    // ---------------------------------------------------------------- presence

    private XElement PresenceFrom(string from, string? type, string? to = null)
    {
        var p = new XElement(Ns.Client + "presence", new XAttribute("from", from));
        if (type is not null)
        {
            p.Add(new XAttribute("type", type));
        }
        if (to is not null)
        {
            p.Add(new XAttribute("to", to));
        }
        return p;
    }

    /// <summary>Queues a stanza for every bound resource of a person on this server.</summary>
    private void SendToPerson(string userId, XElement stanza)
    {
        foreach (var s in _gw.SessionsOf(userId))
        {
            var copy = new XElement(stanza);
            copy.SetAttributeValue("to", s.FullJid);
            s.Enqueue(copy);
        }
    }

    private async Task OnPresence(XElement p)
    {
        var type = (string?)p.Attribute("type");
        var to = (string?)p.Attribute("to");
        try
        {
            if (type is "subscribe" or "subscribed" or "unsubscribe" or "unsubscribed")
            {
                await Subscription(p, type, to);
                return;
            }
            if (type is "probe")
            {
                if (LocalUser(to) is { } probed && _watching.ContainsKey(probed))
                {
                    Deliver(await _gw.Hub.Watch(this, probed, alreadyAttached: true));
                }
                return;
            }
            if (type is "error")
            {
                return;
            }
            if (type is not (null or "unavailable"))
            {
                await Send(StanzaError(p, "modify", "bad-request", null));
                return;
            }
            if (to is not null && !IsSelfBare(to) && !IsServer(to))
            {
                await DirectedPresence(p, to);
                return;
            }
            if (type == "unavailable")
            {
                await Unavailable();
            }
            else
            {
                await GoAvailable(p);
            }
        }
        catch (PresenceLimitException ex)
        {
            await Send(StanzaError(p, "modify", "policy-violation", ex.Message));
        }
        catch (Exception ex) when (ex is not XmppStreamException and not IOException)
        {
            LogStanzaFailed(_gw.Logger, ex, UserId);
            await Send(StanzaError(p, "wait", "internal-server-error", null));
        }
    }

    private async Task GoAvailable(XElement p)
    {
        var show = p.Element(Ns.Client + "show")?.Value.Trim();
        var status = p.Element(Ns.Client + "status")?.Value;
        if (int.TryParse(p.Element(Ns.Client + "priority")?.Value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var priority))
        {
            _priority = Math.Clamp(priority, -128, 127);
        }
        DateTimeOffset? idleSince = null;
        if ((string?)p.Element(Ns.Idle + "idle")?.Attribute("since") is { } since
            && DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            idleSince = parsed <= _gw.Time.GetUtcNow() ? parsed : _gw.Time.GetUtcNow();
        }
        if (p.Element(Ns.Caps + "c") is { } c)
        {
            _caps = new XElement(c);
            OnCaps(c);
        }
        _routable = true; // before the presence is published: whoever sees it can reach this resource
        if (!await RegisterRoute(available: true))
        {
            return; // replaced by a newer binding elsewhere: the device is theirs now
        }
        var capabilities = new List<string> { "chat" };
        _report = new DeviceReport(DeviceId, DeviceKind.Desktop, XmppRendering.FromShow(show), _pepActivity, idleSince, capabilities, _pepLocation, _gw.Options.ResourceLease);
        var person = _gw.Person(UserId);
        var own = await person.PutDevice(_report);
        await ApplyNote(person, status, own);
        if (!_available)
        {
            _available = true;
            if (_wasAvailable)
            {
                Replay();
            }
            _wasAvailable = true;
            // Initial presence: pending subscription requests are delivered again (RFC 6121 3.1.3), then the
            // contacts' presence flows (the views already watched since bind).
            foreach (var w in (await person.GetWatchers()).Where(w => w.Status == SubscriptionStatus.Pending))
            {
                Enqueue(PresenceFrom($"{w.WatcherId}@{Domain}", "subscribe", FullJid));
            }
            Signal();
        }
    }

    /// <summary>
    /// The presence <c>status</c> is the person's note. Setting it keeps a preferred status that is in force (the
    /// owner's view names it as the source); an unchanged text changes nothing.
    /// </summary>
    /// <param name="person">The person's grain.</param>
    /// <param name="status">The presence's status text.</param>
    /// <param name="own">The owner's view as <c>PutDevice</c> just returned it (saves a <c>GetViewFor</c> call per presence).</param>
    private async Task ApplyNote(IPersonGrain person, string? status, PresenceView own)
    {
        status = string.IsNullOrWhiteSpace(status) ? null : status.Trim();
        if (status is { Length: > 280 })
        {
            status = status[..280];
        }
        if (status == _lastNote)
        {
            return;
        }
        if (own.Note == status)
        {
            _lastNote = status;
            return;
        }
        var preferred = own.Provenance is { Source: SourceKind.Preferred } prov ? prov : null;
        await person.SetStatus(new SetStatus(preferred is null ? null : own.Availability, preferred is null ? null : own.Activity, status, preferred?.Until));
        _lastNote = status;
    }

    private async Task Unavailable()
    {
        _routable = false;
        // First: once the device is gone, nothing is routed here any more. Replaced meanwhile: the device is the newer binding's.
        if (!await RegisterRoute(available: false))
        {
            return;
        }
        if (_report is not null)
        {
            await _gw.Person(UserId).RemoveDevice(DeviceId);
            _report = null;
        }
        _available = false;
        lock (_shownAvailable)
        {
            _shownAvailable.Clear();
        }
        _pepSent.Clear();
    }

    /// <summary>
    /// Registers this resource (available or not, priority) with the person's router grain; renewals re-send it. The
    /// bind claims the resource (the newest binding wins, on any process); every later call only updates this
    /// binding's entry: false once a newer binding holds the resource, and this session then ends with conflict.
    /// </summary>
    private async Task<bool> RegisterRoute(bool available, bool renew = false, bool bind = false)
    {
        var state = (available, _priority);
        if (!renew && !bind && _routeState == state)
        {
            return true;
        }
        _routeState = state;
        var entry = new Herald.Cluster.Xmpp.XmppResource(Resource, _priority, available, _gw.NodeId, Binding);
        if (bind)
        {
            await _gw.Router(UserId).Bind(entry, _gw.NodeRef, _gw.Options.ResourceLease);
            return true;
        }
        if (await _gw.Router(UserId).Renew(entry, _gw.NodeRef, _gw.Options.ResourceLease))
        {
            return true;
        }
        await Replaced();
        return false;
    }

    private (bool Available, int Priority)? _routeState;

    /// <summary>Renews the device lease of an available resource and its route (called by the gateway's keeper).</summary>
    public async Task RenewLease()
    {
        if (!_bound || _ending)
        {
            return;
        }
        try
        {
            if (!await RegisterRoute(_available, renew: true))
            {
                return;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogEndFailed(_gw.Logger, ex, UserId);
        }
        if (_report is not { } report || _ending)
        {
            return;
        }
        try
        {
            var person = _gw.Person(UserId);
            if (!await person.Heartbeat(report.DeviceId))
            {
                await person.PutDevice(report);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogEndFailed(_gw.Logger, ex, UserId);
        }
    }

    /// <summary>Directed presence: the sender's own choice to share with one entity, delivered to its local resources.</summary>
    private async Task DirectedPresence(XElement p, string to)
    {
        if (LocalUser(to) is not { } target || await _gw.Directory.GetPerson(target) is null || await Blocks(target, UserId))
        {
            return;
        }
        var copy = new XElement(p);
        copy.SetAttributeValue("from", FullJid);
        var resource = ParseJid(to)!.Value.Resource;
        foreach (var s in _gw.SessionsOf(target).Where(s => resource is null || s.Resource == resource))
        {
            var c = new XElement(copy);
            c.SetAttributeValue("to", s.FullJid);
            s.Enqueue(c);
        }
        foreach (var r in (await RemoteResources(target)).Where(r => resource is null || r.Resource == resource))
        {
            var c = new XElement(copy);
            c.SetAttributeValue("to", $"{target}@{Domain}/{r.Resource}");
            await _gw.Router(target).Deliver(r.Resource, c.ToString(SaveOptions.DisableFormatting));
        }
    }

    private async Task Subscription(XElement p, string type, string? to)
    {
        if (LocalUser(to) is not { } contactId || contactId == UserId || ParseJid(to)!.Value.Resource is not null)
        {
            await Send(StanzaError(p, "modify", "jid-malformed", "a bare JID of another person on this server"));
            return;
        }
        if (await _gw.Directory.GetPerson(contactId) is null)
        {
            await Send(StanzaError(p, "cancel", "item-not-found", "no such person"));
            return;
        }
        var me = _gw.Person(UserId);
        var them = _gw.Person(contactId);
        var contactJid = $"{contactId}@{Domain}";
        switch (type)
        {
            case "subscribe":
            {
                await me.AddContact(contactId);
                var answer = await them.RequestSubscription(UserId);
                await WatchOnAllSessions(contactId);
                if (answer == SubscriptionAnswer.Refused)
                {
                    SendToPerson(UserId, PresenceFrom(contactJid, "unsubscribed"));
                }
                else if (answer == SubscriptionAnswer.Approved
                    && (await them.GetWatchers()).FirstOrDefault(w => w.WatcherId == UserId)?.Status == SubscriptionStatus.Approved)
                {
                    SendToPerson(UserId, PresenceFrom(contactJid, "subscribed"));
                }
                else if (answer == SubscriptionAnswer.Pending)
                {
                    // The person decides, from XMPP (a 'subscribed' answer) or the web.
                    SendToPerson(contactId, PresenceFrom(BareJid, "subscribe"));
                }
                // A polite block never answers: the request looks pending for ever.
                break;
            }
            case "subscribed":
            {
                // Approve a pending request, or pre-approve one that has not come yet (RFC 6121 3.4).
                var pending = (await me.GetWatchers()).FirstOrDefault(w => w.WatcherId == contactId);
                if (pending?.Status == SubscriptionStatus.Pending)
                {
                    await me.DecideSubscription(contactId, approve: true);
                }
                else if (pending?.Status != SubscriptionStatus.Approved)
                {
                    await me.PreApprove(contactId);
                }
                else
                {
                    return;
                }
                SendToPerson(contactId, PresenceFrom(BareJid, "subscribed"));
                break;
            }
            case "unsubscribed":
            {
                var rec = (await me.GetWatchers()).FirstOrDefault(w => w.WatcherId == contactId);
                if (rec?.Status == SubscriptionStatus.Pending)
                {
                    await me.DecideSubscription(contactId, approve: false);
                }
                else if (rec?.Status is SubscriptionStatus.Approved)
                {
                    await me.RevokeWatcher(contactId);
                }
                else
                {
                    return;
                }
                SendToPerson(contactId, PresenceFrom(BareJid, "unsubscribed"));
                break;
            }
            case "unsubscribe":
            {
                if ((await them.GetWatchers()).FirstOrDefault(w => w.WatcherId == UserId)?.Status is SubscriptionStatus.Approved or SubscriptionStatus.Pending)
                {
                    await them.RevokeWatcher(UserId);
                    SendToPerson(contactId, PresenceFrom(BareJid, "unsubscribe"));
                }
                break;
            }
        }
    }

    // ---------------------------------------------------------------- messages

    private async Task OnMessage(XElement m)
    {
        var to = (string?)m.Attribute("to");
        var type = (string?)m.Attribute("type") ?? "normal";
        if (type == "error")
        {
            return;
        }
        if (LocalUser(to) is not { } target || await _gw.Directory.GetPerson(target) is null)
        {
            if (type != "headline")
            {
                await Send(StanzaError(m, "cancel", IsServer(to) ? "service-unavailable" : "item-not-found", null));
            }
            return;
        }
        var resource = ParseJid(to)!.Value.Resource;
        var blocked = target != UserId && await Blocks(target, UserId);
        // Candidates: available resources here and, through the person's router grain, on other server processes.
        var candidates = blocked ? [] : _gw.SessionsOf(target).Where(s => s != this && s.Available)
            .Select(s => new Target(s.Resource, s.Priority, s)).Concat((await RemoteResources(target)).Select(r => new Target(r.Resource, r.Priority, null))).ToList();
        var targets = resource is not null
            ? candidates.Where(s => s.Resource == resource).ToList()
            : candidates.Where(s => s.Priority >= 0).ToList();
        if (resource is not null && targets.Count == 0 && type is "chat" or "normal")
        {
            targets = [.. candidates.Where(s => s.Priority >= 0)]; // RFC 6121 8.5.3.2.1: fall back to the bare JID
        }
        var delivered = 0;
        foreach (var t in targets)
        {
            var copy = new XElement(m);
            copy.SetAttributeValue("from", FullJid); // only ever the sender's own authenticated JID
            copy.SetAttributeValue("to", $"{target}@{Domain}/{t.Resource}");
            if (await DeliverTo(target, t, copy))
            {
                delivered++;
            }
        }
        if (delivered == 0)
        {
            if (type is "headline" or "groupchat")
            {
                return;
            }
            // Nobody to take it: tell the sender, with the status the sender may see.
            var view = target == UserId ? null : await _gw.Person(target).GetViewFor(UserId, "xmpp");
            var error = StanzaError(m, "wait", "recipient-unavailable", StatusText(target, view));
            if (view is not null)
            {
                error.Add(XmppRendering.Presence(view, Domain).Element(Ns.Herald + "herald"));
            }
            await Send(error);
        }
    }

    /// <summary>A resource to deliver to: a local session, or (Local null) one on another server process.</summary>
    private sealed record Target(string Resource, int Priority, XmppSession? Local);

    /// <summary>The available resources of a person on other server processes (cluster mode).</summary>
    private async Task<IReadOnlyList<Herald.Cluster.Xmpp.XmppResource>> RemoteResources(string userId) =>
        [.. (await _gw.Router(userId).Resources()).Where(r => r.NodeId != _gw.NodeId && r.Available)];

    private async Task<bool> DeliverTo(string userId, Target t, XElement stanza) =>
        t.Local is { } s ? s.Enqueue(stanza) : await _gw.Router(userId).Deliver(t.Resource, stanza.ToString(SaveOptions.DisableFormatting));

    /// <summary>"anna is DoNotDisturb: in a meeting" — only what the view discloses.</summary>
    internal static string StatusText(string userId, PresenceView? view)
    {
        if (view is null)
        {
            return $"{userId} has no other resource online";
        }
        var text = view.Availability switch
        {
            Availability.Unknown or Availability.Offline => $"{userId} is offline",
            _ => $"{userId} is {view.Availability} and not connected over XMPP",
        };
        if (!string.IsNullOrEmpty(view.Note))
        {
            text += ": " + view.Note;
        }
        return text;
    }

    private async Task RouteToResource(XElement stanza, string to)
    {
        var target = LocalUser(to)!;
        var resource = ParseJid(to)!.Value.Resource;
        var session = _gw.SessionsOf(target).FirstOrDefault(s => s.Resource == resource);
        var type = (string?)stanza.Attribute("type");
        var copy = new XElement(stanza);
        copy.SetAttributeValue("from", FullJid);
        // Here, or through the person's router grain on another server process.
        var delivered = !(target != UserId && await Blocks(target, UserId))
            && (session is not null ? session.Enqueue(copy) : await _gw.Router(target).Deliver(resource!, copy.ToString(SaveOptions.DisableFormatting)));
        if (!delivered && type is "get" or "set")
        {
            await SendIqError(stanza, "cancel", "service-unavailable");
        }
    }
}
