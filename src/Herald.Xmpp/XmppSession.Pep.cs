using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Herald.Core.Model;
using Herald.Core.Privacy;

namespace Herald.Xmpp;

/// <summary>
/// XEP-0115 caps resolution and XEP-0163 PEP for user location (XEP-0080) and activity (XEP-0108): notifications
/// computed from the watcher's filtered view only, and a client's own publish mapped onto its device session.
/// </summary>
internal sealed partial class XmppSession
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<XElement>> _pendingIqs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _pepSent = new(StringComparer.Ordinal);
    private volatile IReadOnlySet<string>? _features;
    private volatile bool _pepResync;
    private string? _capsKey;
    private Location? _pepLocation;
    private Activity? _pepActivity;

    /// <summary>The verified features of this resource's client (XEP-0115), or null when unknown.</summary>
    internal IReadOnlySet<string>? Features => _features;

    private bool WantsPep(string node) => _features?.Contains(node + "+notify") == true;

    // ---------------------------------------------------------------- XEP-0115

    /// <summary>A presence carried caps: use the cached features of its ver, or query and verify them (in the background).</summary>
    private void OnCaps(XElement c)
    {
        var hash = (string?)c.Attribute("hash");
        var ver = (string?)c.Attribute("ver");
        var node = (string?)c.Attribute("node");
        var key = hash + " " + ver;
        if (key == _capsKey)
        {
            return; // same caps as before: nothing changed
        }
        _capsKey = key;
        if (!Caps.Supported(hash) || string.IsNullOrEmpty(ver) || string.IsNullOrEmpty(node) || ver.Length > 128 || node.Length > 1024)
        {
            SetFeatures(null); // legacy caps (no hash) or an unknown algorithm: no features are assumed
            return;
        }
        if (_gw.Caps.Get(hash!, ver) is { } known)
        {
            SetFeatures(known);
            return;
        }
        _ = ResolveCaps(hash!, ver, node);
    }

    private async Task ResolveCaps(string hash, string ver, string node)
    {
        try
        {
            var key = hash + " " + ver;
            var mine = new TaskCompletionSource<IReadOnlySet<string>?>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = _gw.CapsInFlight.GetOrAdd(key, mine.Task);
            if (task != mine.Task)
            {
                // Another session asks its client right now: take its answer (null = it failed; our next presence retries).
                var other = await task.WaitAsync(_gw.Options.CapsQueryTimeout * 2, _closed.Token);
                if (_capsKey == key)
                {
                    SetFeatures(other);
                }
                return;
            }
            IReadOnlySet<string>? features = null;
            try
            {
                features = await QueryCaps(hash, ver, node);
                if (features is not null)
                {
                    _gw.Caps.Add(hash, ver, features);
                }
            }
            finally
            {
                _gw.CapsInFlight.TryRemove(key, out _);
                mine.TrySetResult(features);
            }
            if (_capsKey == key)
            {
                SetFeatures(features);
            }
            else if (features is null)
            {
                _capsKey = null;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            _capsKey = null; // not resolved: the next presence with these caps tries again
        }
    }

    /// <summary>Asks this resource for disco#info of node#ver; the features when the answer hashes to ver, else null.</summary>
    private async Task<IReadOnlySet<string>?> QueryCaps(string hash, string ver, string node)
    {
        _gw.Caps.CountQuery();
        var id = "caps-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();
        var answer = new TaskCompletionSource<XElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingIqs[id] = answer;
        try
        {
            Enqueue(new XElement(Ns.Client + "iq", new XAttribute("type", "get"), new XAttribute("id", id), new XAttribute("from", Domain),
                new XAttribute("to", FullJid), new XElement(Caps.DiscoInfo + "query", new XAttribute("node", node + "#" + ver))));
            XElement reply;
            try
            {
                reply = await answer.Task.WaitAsync(_gw.Options.CapsQueryTimeout, _closed.Token);
            }
            catch (TimeoutException)
            {
                return null;
            }
            if ((string?)reply.Attribute("type") != "result" || reply.Element(Caps.DiscoInfo + "query") is not { } query || Caps.Ver(query, hash) != ver)
            {
                return null; // an error, or an answer that does not hash to the ver it claims: never cached, never used
            }
            return query.Elements(Caps.DiscoInfo + "feature").Select(f => (string?)f.Attribute("var") ?? "").ToHashSet(StringComparer.Ordinal);
        }
        finally
        {
            _pendingIqs.TryRemove(id, out _);
        }
    }

    /// <summary>An IQ result/error for a query of the gateway; true when it was one (and is consumed).</summary>
    private bool AnswerToOwnQuery(XElement iq, string? to)
    {
        if ((string?)iq.Attribute("id") is not { } id || !(IsServer(to) || to == FullJid) || !_pendingIqs.TryRemove(id, out var answer))
        {
            return false;
        }
        answer.TrySetResult(iq);
        return true;
    }

    private void SetFeatures(IReadOnlySet<string>? features)
    {
        var before = XmppRendering.PepNodes.Select(WantsPep).ToList();
        _features = features;
        if (!XmppRendering.PepNodes.Select(WantsPep).SequenceEqual(before))
        {
            _pepResync = true; // newly interested: send the current items (XEP-0163 section 4.3.2: last published item)
            Signal();
        }
    }

    // ---------------------------------------------------------------- PEP notifications (write loop only)

    /// <summary>
    /// Appends the PEP notifications a view calls for: per node this resource is interested in, the payload rendered
    /// from the view (exactly the disclosed precision) when it differs from what this resource got last; an empty
    /// item when something was sent before and the view no longer discloses it. Nothing for someone never shown.
    /// </summary>
    private void AppendPep(PooledByteWriter output, PresenceView view)
    {
        foreach (var node in XmppRendering.PepNodes)
        {
            if (!WantsPep(node))
            {
                continue;
            }
            var payload = XmppRendering.PepPayload(view, node);
            var text = payload?.ToString(SaveOptions.DisableFormatting) ?? "";
            var key = view.UserId + "\n" + node;
            var sent = _pepSent.TryGetValue(key, out var s) ? s : null;
            if (sent == text || (sent is null && payload is null))
            {
                continue;
            }
            _pepSent[key] = text;
            output.Write(XmppRendering.PepEvent(view.UserId, Domain, FullJid, node, payload).ToString(SaveOptions.DisableFormatting));
        }
    }

    /// <summary>After caps made this resource interested: the current items of everyone it watches.</summary>
    private void AppendPepResync(PooledByteWriter output)
    {
        if (!_pepResync)
        {
            return;
        }
        _pepResync = false;
        foreach (var view in _current.Values)
        {
            AppendPep(output, view);
        }
    }

    // ---------------------------------------------------------------- PEP publish (the client's own location / activity)

    /// <summary>
    /// XEP-0060 publish to the account's own PEP node: geoloc → the device's location, activity → the device's
    /// activity (then Herald's policy decides who sees what). Other nodes: <c>item-not-found</c>.
    /// </summary>
    private async Task PepRequest(XElement iq, string type, XElement pubsub)
    {
        var publish = pubsub.Element(Ns.PubSub + "publish");
        if (type == "get" && pubsub.Element(Ns.PubSub + "items") is { } items && pubsub.Elements().Count() == 1)
        {
            await PepItems(iq, items);
            return;
        }
        if (type != "set" || publish is null)
        {
            await SendIqError(iq, "cancel", "feature-not-implemented", null, new XElement(Ns.PubSubErrors + "unsupported", new XAttribute("feature", pubsub.Elements().FirstOrDefault()?.Name.LocalName ?? "pubsub")));
            return;
        }
        var to = (string?)iq.Attribute("to");
        if (!(to is null || IsSelfBare(to)))
        {
            await SendIqError(iq, "auth", "forbidden", "publish to your own account only");
            return;
        }
        var node = (string?)publish.Attribute("node");
        if (pubsub.Element(Ns.PubSub + "publish-options") is { } options && !OnlyAccessModel(options))
        {
            await SendIqError(iq, "modify", "conflict", "Herald's privacy rules decide who sees this; only pubsub#access_model may be given", new XElement(Ns.PubSubErrors + "precondition-not-met"));
            return;
        }
        if (node is not (XmppRendering.GeolocNode or XmppRendering.ActivityNode))
        {
            await SendIqError(iq, "cancel", "item-not-found", $"this server keeps only the PEP nodes {XmppRendering.GeolocNode} and {XmppRendering.ActivityNode}");
            return;
        }
        var itemList = publish.Elements(Ns.PubSub + "item").ToList();
        if (itemList.Count != 1)
        {
            await SendIqError(iq, "modify", "bad-request", "exactly one item", new XElement(Ns.PubSubErrors + (itemList.Count == 0 ? "item-required" : "invalid-payload")));
            return;
        }
        var payloads = itemList[0].Elements().ToList();
        var expected = node == XmppRendering.GeolocNode ? Ns.Geoloc + "geoloc" : Ns.Activity + "activity";
        if (payloads.Count != 1 || payloads[0].Name != expected)
        {
            await SendIqError(iq, "modify", "bad-request", $"the item must hold one <{expected.LocalName} xmlns='{expected.NamespaceName}'/>",
                new XElement(Ns.PubSubErrors + (payloads.Count == 0 ? "payload-required" : "invalid-payload")));
            return;
        }
        if (node == XmppRendering.GeolocNode)
        {
            Location? location;
            try
            {
                location = XmppRendering.ParseGeoloc(payloads[0], out _);
            }
            catch (FormatException ex)
            {
                await SendIqError(iq, "modify", "bad-request", ex.Message, new XElement(Ns.PubSubErrors + "invalid-payload"));
                return;
            }
            _pepLocation = location;
        }
        else
        {
            var activity = XmppRendering.ParseActivity(payloads[0], out var cleared);
            if (activity is null && !cleared)
            {
                await SendIqError(iq, "modify", "not-acceptable", "this activity has no Herald equivalent (talking, working, inactive, traveling)",
                    new XElement(Ns.PubSubErrors + "invalid-payload"));
                return;
            }
            _pepActivity = activity;
        }
        if (_report is not null)
        {
            _report = _report with { Location = _pepLocation, Activity = _pepActivity };
            await _gw.Person(UserId).PutDevice(_report);
        }
        // Not available yet: kept, and part of the device once the resource sends presence.
        await SendIq(iq, new XElement(Ns.PubSub + "pubsub", new XElement(Ns.PubSub + "publish", new XAttribute("node", node),
            new XElement(Ns.PubSub + "item", new XAttribute("id", (string?)itemList[0].Attribute("id") ?? XmppRendering.PepItemId)))));
    }

    private static bool OnlyAccessModel(XElement options)
    {
        var fields = options.Descendants(Caps.DataForms + "field").Select(f => (string?)f.Attribute("var")).ToList();
        return fields.All(v => v is "FORM_TYPE" or "pubsub#access_model");
    }

    /// <summary>XEP-0060 items retrieval from a person's PEP node: the item rendered from the asker's view (or none).</summary>
    private async Task PepItems(XElement iq, XElement items)
    {
        var node = (string?)items.Attribute("node");
        var to = (string?)iq.Attribute("to");
        var user = to is null || IsSelfBare(to) ? UserId : LocalUser(to);
        if (node is not (XmppRendering.GeolocNode or XmppRendering.ActivityNode) || user is null || ParseJid(to)?.Resource is not null
            || await _gw.Directory.GetPerson(user) is null)
        {
            await SendIqError(iq, "cancel", "item-not-found");
            return;
        }
        var view = await _gw.Person(user).GetViewFor(UserId, "xmpp");
        var result = new XElement(Ns.PubSub + "items", new XAttribute("node", node));
        if (XmppRendering.PepPayload(view, node) is { } payload)
        {
            result.Add(new XElement(Ns.PubSub + "item", new XAttribute("id", XmppRendering.PepItemId), payload));
        }
        await SendIq(iq, new XElement(Ns.PubSub + "pubsub", result));
    }
}
