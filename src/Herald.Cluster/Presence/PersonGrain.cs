using System.Diagnostics;
using Herald.Cluster.Directory;
using Herald.Cluster.Fanout;
using Herald.Cluster.Privacy;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Reachability;
using Herald.Core.Privacy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Storage;

namespace Herald.Cluster.Presence;

/// <summary>
/// One activation per person. Holds the person's sources (durable preferred status and note, ephemeral device and
/// integration leases), recomputes the aggregate on every change, issues sequence numbers, and sends each silo
/// that has watchers one message per change carrying one view per distinct disclosure.
/// </summary>
public sealed partial class PersonGrain : Grain, IPersonGrain, IIncomingGrainCallFilter
{
    /// <summary>Most active or future grants one person may hold.</summary>
    public const int MaxGrants = 500;

    private readonly IPersistentState<PersonState> _state;
    private readonly IDirectoryStore _directory;
    private readonly TimeProvider _time;
    private readonly PresenceOptions _options;
    private readonly IClusterMembershipService _membership;
    private readonly OrgPolicyCache _policies;
    private readonly IAuditLog _audit;
    private readonly ILogger<PersonGrain> _logger;
    private readonly MembershipChanges _changes;
    private readonly SiloPresenceHub _localHub;
    private readonly SiloAddress _localSilo;
    private readonly Dictionary<string, RelationshipTier> _tiers = new(StringComparer.Ordinal);
    private OrgPolicy _org = OrgPolicy.Default;
    private long _orgVersion = -1;
    private int _privacyVersion;
    private PolicyStamp? _stamp;

    private readonly Dictionary<string, DeviceSession> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActivityLease> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<SiloAddress, SiloWatch> _silos = [];
    private string? _id;
    private readonly Dictionary<DisclosureKey, PresenceView> _views = [];

    private PersonProfile _profile = null!;
    private AggregationSettings _settings = AggregationSettings.Default;
    private SequenceClock _clock = new();
    private AggregatedPresence? _presence;
    private AggregatedPresence? _unhidden;
    private long _sequence;
    private IGrainTimer? _expiryTimer;
    private DateTimeOffset? _expiryDue;
    private bool _expiryKeepsAlive;
    private IGrainTimer? _lastSeenTimer;
    private readonly List<DisclosureKey> _keyScratch = [];
    // True after ClearViews until RefreshViews has rendered every registered watcher's key again.
    private bool _watcherKeysUnrendered;
    // This thread's scratch for RefreshViews (synchronous, never re-entered): one per thread, not one per person.
    [ThreadStatic] private static List<KeyedView>? t_changedScratch;

    /// <summary>Creates the grain.</summary>
    public PersonGrain(
        [PersistentState("person", HeraldStorage.ProviderName)] IPersistentState<PersonState> state,
        IDirectoryStore directory, TimeProvider time, IOptions<PresenceOptions> options,
        IClusterMembershipService membership, OrgPolicyCache policies, IAuditLog audit, ILogger<PersonGrain> logger,
        MembershipChanges changes, SiloPresenceHub localHub, ILocalSiloDetails localSilo)
    {
        ArgumentNullException.ThrowIfNull(localSilo);
        _changes = changes;
        _localHub = localHub;
        _localSilo = localSilo.SiloAddress;
        _policies = policies;
        _audit = audit;
        _state = state;
        _directory = directory;
        _time = time;
        _options = options.Value;
        _membership = membership;
        _logger = logger;
    }

    /// <summary>The person's id (the grain key; read once: the key lookup allocates a new string each time).</summary>
    private string Id => _id ??= this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _profile = await _directory.GetPerson(Id, cancellationToken) ?? PersonProfile.Minimal(Id);
        (_org, _orgVersion) = await _policies.Get(cancellationToken);
        _settings = SettingsFor(_profile);
        _clock = new SequenceClock(_state.State.SequenceHighWater);
        await Recompute(broadcast: false);
    }

    /// <summary>
    /// Every call. Around a membership change (<see cref="MembershipChanges.Recent"/>) the state is first compared
    /// with storage, so that an activation left behind by a duplicate adopts what the other one wrote before it
    /// answers. A write rejected for a stale ETag (<see cref="InconsistentStateException"/>: another activation wrote
    /// first) is never acknowledged: the stored state is adopted and re-broadcast, and the error goes to the caller,
    /// who retries. The stored state is therefore never overwritten from a stale copy.
    /// </summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_changes.Recent)
        {
            await RefreshFromStorage();
        }
        try
        {
            await context.Invoke();
        }
        catch (InconsistentStateException ex)
        {
            LogStaleActivation(ex, Id);
            await AdoptStoredStateAfterConflict();
            throw;
        }
    }

    /// <summary>Re-reads the state; when another activation wrote meanwhile (the ETag moved), adopts it.</summary>
    private async Task RefreshFromStorage()
    {
        var mine = _state.State;
        var etag = _state.Etag;
        await _state.ReadStateAsync();
        if (_state.Etag == etag)
        {
            _state.State = mine; // unchanged: keep what is in memory (last-seen may be ahead of storage)
            return;
        }
        LogAdopted(Id);
        await Adopt(mine);
    }

    private async Task AdoptStoredStateAfterConflict()
    {
        try
        {
            var mine = _state.State;
            await _state.ReadStateAsync();
            await Adopt(mine);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogAdoptFailed(ex, Id);
        }
    }

    /// <summary>
    /// Takes the stored state as the truth, issues a new sequence number (above everything this person's activations
    /// issued that this one knows of, and above the current time) and re-renders and re-broadcasts every view in
    /// use, so that watchers registered with this activation move to the stored state.
    /// </summary>
    private async Task Adopt(PersonState mine)
    {
        var stored = _state.State;
        stored.LastSeen = Max(stored.LastSeen, mine.LastSeen); // last-seen is persisted lazily; never move it back
        _clock = new SequenceClock(Math.Max(Math.Max(_clock.Last, _sequence), stored.SequenceHighWater));
        _tiers.Clear();
        ClearViews();
        _presence = null;
        _stamp = null;
        await Recompute(broadcast: true);
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Fold what the devices last said into last-seen, so a collected or migrated grain keeps it.
        var lastSeen = _devices.Values.Select(d => (DateTimeOffset?)d.LastHeartbeat).Append(_state.State.LastSeen).Max();
        if (lastSeen != _state.State.LastSeen)
        {
            _state.State.LastSeen = lastSeen;
            try
            {
                await WriteState();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogLastSeenWriteFailed(ex, Id);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<PresenceView> SetStatus(SetStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var now = _time.GetUtcNow();
        var (previousPreferred, previousNote) = (_state.State.Preferred, _state.State.Note);
        if (status.Availability is not null || status.Activity is not null)
        {
            var effective = status.Availability ?? Activities.Implied(status.Activity!.Value);
            var until = status.Until ?? now + PreferredStatus.DefaultLifetime(effective);
            if (status.Availability == Availability.Offline && !_org.AppearOfflineAllowed)
            {
                throw new PresenceLimitException("appear offline is not allowed by organization policy", "availability");
            }
            var preferred = new PreferredStatus(status.Availability, status.Activity, now, until);
            if (preferred.IsAppearOffline)
            {
                // Freeze what watchers will be told as last-seen: kept when appear offline is merely renewed.
                var live = _devices.Values.Any(d => d.IsLive(now, _settings.GraceWindow));
                preferred = preferred with
                {
                    LastSeenAtSet = previousPreferred is { IsAppearOffline: true } prev && prev.Until > now
                        ? prev.LastSeenAtSet ?? prev.SetAt
                        : live ? now : _state.State.LastSeen ?? now,
                };
            }
            _state.State.Preferred = preferred;
        }
        else
        {
            _state.State.Preferred = null;
        }
        _state.State.Note = string.IsNullOrEmpty(status.Note) ? null : new StatusNote(status.Note, now, status.Until);
        await WriteDurableChange(previousPreferred, previousNote);
        return OwnerView();
    }

    /// <inheritdoc />
    public Task<OwnStatus> GetStatus()
    {
        // Expired parts may still be stored until the expiry timer prunes them: leave them out by the same rule.
        var now = _time.GetUtcNow();
        var preferred = _state.State.Preferred is { } p && p.Until > now ? p : null;
        var note = _state.State.Note is { } n && (n.Until is null || n.Until > now) ? n : null;
        return Task.FromResult(new OwnStatus(preferred?.Availability, preferred?.Activity, preferred?.Until, note?.Text, note?.Until));
    }

    /// <inheritdoc />
    public async Task<PresenceView> ClearStatus()
    {
        var (previousPreferred, previousNote) = (_state.State.Preferred, _state.State.Note);
        _state.State.Preferred = null;
        _state.State.Note = null;
        await WriteDurableChange(previousPreferred, previousNote);
        return OwnerView();
    }

    /// <inheritdoc />
    public async Task<PresenceView> SetCalendar(IReadOnlyList<CalendarBusy> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var cutoff = _time.GetUtcNow().AddDays(-1);
        var previous = _state.State.Calendar;
        var kept = entries.Where(e => e.End > cutoff).OrderBy(e => e.Start).ToList();
        _state.State.Calendar = kept.Count == 0 ? null : kept;
        try
        {
            await WriteState();
        }
        catch
        {
            _state.State.Calendar = previous;
            throw;
        }
        await Recompute(broadcast: true);
        return OwnerView();
    }

    /// <summary>Writes first, and only then tells watchers: a failed write changes nothing anyone can see.</summary>
    private async Task WriteDurableChange(PreferredStatus? previousPreferred, StatusNote? previousNote)
    {
        try
        {
            await WriteState();
        }
        catch
        {
            _state.State.Preferred = previousPreferred;
            _state.State.Note = previousNote;
            throw;
        }
        await Recompute(broadcast: true);
    }

    /// <inheritdoc />
    public async ValueTask<PresenceView> PutDevice(DeviceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var now = _time.GetUtcNow();
        if (!_devices.ContainsKey(report.DeviceId) && _devices.Count >= _options.MaxDevicesPerPerson)
        {
            throw new PresenceLimitException($"at most {_options.MaxDevicesPerPerson} devices per person", "deviceId");
        }
        var stateSince = _devices.TryGetValue(report.DeviceId, out var old)
            && old.Reported == (report.Availability ?? (report.Activity is { } a ? Activities.Implied(a) : Availability.Available))
            && old.Activity == report.Activity
                ? old.StateSince
                : now;
        _devices[report.DeviceId] = new DeviceSession(report.DeviceId, report.Kind, report.Availability, report.Activity,
            report.IdleSince, report.Capabilities, report.Location is null ? null : report.Location with { At = report.Location.At ?? now },
            report.Ttl, old?.StartedAt ?? now, now, now + report.Ttl, stateSince);
        EnsureLastSeenTimer();
        await Recompute(broadcast: true);
        return OwnerView();
    }

    /// <inheritdoc />
    public async Task<bool> Heartbeat(string deviceId)
    {
        var now = _time.GetUtcNow();
        if (!_devices.TryGetValue(deviceId, out var d) || !d.IsLive(now, _settings.GraceWindow))
        {
            return false;
        }
        _devices[deviceId] = d with { LastHeartbeat = now, ExpiresAt = now + d.Ttl };
        await Recompute(broadcast: true);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> RemoveDevice(string deviceId)
    {
        if (!_devices.Remove(deviceId, out var d))
        {
            return false;
        }
        _state.State.LastSeen = Max(_state.State.LastSeen, _time.GetUtcNow());
        await Recompute(broadcast: true);
        if (_devices.Count == 0)
        {
            await WriteState();
        }
        return true;
    }

    /// <inheritdoc />
    public async Task ConnectionLost(string deviceId)
    {
        var now = _time.GetUtcNow();
        if (_devices.TryGetValue(deviceId, out var d) && d.ExpiresAt > now)
        {
            _devices[deviceId] = d with { ExpiresAt = now };
            await Recompute(broadcast: true);
        }
    }

    /// <inheritdoc />
    public async Task<PresenceView> GetViewFor(string watcherId, string channel)
    {
        await EnsureFresh();
        if (watcherId == Id)
        {
            return OwnerView();
        }
        await EnsureTiers([watcherId]);
        var decision = Decide(watcherId, _time.GetUtcNow());
        var view = ViewFor(decision.Key);
        Audit(watcherId, channel, channel == "live" ? "live" : "rest", decision);
        return view;
    }

    /// <inheritdoc />
    public async Task ProfileChanged(PersonProfile? profile)
    {
        // The node's profile cache must not hand other grains (their watcher tiers) or a later activation the old one.
        (_directory as IProfileCache)?.Invalidate(Id);
        _profile = profile ?? PersonProfile.Minimal(Id);
        _settings = SettingsFor(_profile);
        _tiers.Clear(); // team or manager may have changed
        ClearViews(); // contact methods may have changed for every disclosure
        _presence = null; // force a new sequence number so watchers take the new views
        _stamp = null;
        await Recompute(broadcast: true);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WatchGrant>> WatchFromSilo(SiloAddress silo, ISiloPresenceObserver observer, IReadOnlyList<string> watcherIds, bool replace)
    {
        ArgumentNullException.ThrowIfNull(watcherIds);
        await EnsureFresh();
        await EnsureTiers(watcherIds);
        var now = _time.GetUtcNow();
        var newlyApproved = false;
        for (var i = 0; i < watcherIds.Count; i++)
        {
            var watcherId = watcherIds[i];
            if (watcherId != Id && !_state.State.Watchers.ContainsKey(watcherId)
                && PolicyEngine.HandlingFor(TierOf(watcherId), _org, Privacy) == SubscriptionHandling.Allow
                && TierOf(watcherId) != RelationshipTier.Blocked)
            {
                _state.State.Watchers[watcherId] = new WatcherRecord(SubscriptionStatus.Approved, now, now);
                _audit.Append(new AuditEntry(now, Id, watcherId, "subscription", "live", "approved automatically", $"tier={TierOf(watcherId)}; handling=Allow"));
                newlyApproved = true;
            }
        }
        if (newlyApproved)
        {
            await WriteState();
        }
        if (!_silos.TryGetValue(silo, out var watch))
        {
            watch = new SiloWatch(observer);
            _silos[silo] = watch;
        }
        watch.Observer = observer;
        watch.RenewedAt = Stopwatch.GetTimestamp();
        Dictionary<string, DisclosureKey>? previous = null;
        if (replace)
        {
            // A renewal names every watcher of that silo: the map is rebuilt at exactly that size. Registrations arrive
            // one watcher at a time at login, which grows a map of 20 watchers to room for 37 (≈ 0.6 KB per person
            // idle); the first renewal gives the room back (docs/benchmarks.md, "Memory per connected user").
            previous = watch.Watchers;
            watch.Watchers = new Dictionary<string, DisclosureKey>(watcherIds.Count, StringComparer.Ordinal);
        }
        else
        {
            // Watchers arrive one at a time: when the map is full, grow it towards the number of people who may watch
            // (the approved subscriptions and the person), not to the next doubling.
            watch.MakeRoom(watcherIds.Count, _state.State.Watchers.Count + 1);
        }
        var grants = new List<WatchGrant>(watcherIds.Count);
        for (var i = 0; i < watcherIds.Count; i++)
        {
            var watcherId = watcherIds[i];
            var decision = watcherId == Id ? SelfDecision() : Decide(watcherId, now);
            var known = (previous ?? watch.Watchers).TryGetValue(watcherId, out var old) && old == decision.Key;
            watch.Watchers[watcherId] = decision.Key;
            if (!known && watcherId != Id)
            {
                Audit(watcherId, "live", "live", decision);
            }
            grants.Add(new WatchGrant(watcherId, decision.Key, ViewFor(decision.Key)));
        }
        return grants;
    }

    /// <inheritdoc />
    public Task<UserPrivacy> GetPrivacy() => Task.FromResult(Privacy);

    /// <inheritdoc />
    public async Task SetPrivacy(UserPrivacy privacy)
    {
        ArgumentNullException.ThrowIfNull(privacy);
        var previous = _state.State.Privacy;
        _state.State.Privacy = privacy;
        try
        {
            await WriteState();
        }
        catch
        {
            _state.State.Privacy = previous;
            throw;
        }
        _audit.Append(new AuditEntry(_time.GetUtcNow(), Id, null, "policy", "rest", "privacy rules changed", "user rules"));
        _tiers.Clear();
        await PrivacyChanged();
    }

    /// <inheritdoc />
    public async Task<PrivacyPreview> Preview(string? asWatcher, RelationshipTier? tier, DateTimeOffset? at, UserPrivacy? proposed)
    {
        await EnsureFresh();
        var when = at ?? _time.GetUtcNow();
        var presence = at is null ? _presence! : PresenceAggregator.Aggregate(Sources(), _settings, when);
        var context = PolicyEngine.ContextOf(presence);
        var privacy = proposed ?? Privacy;
        DisclosureDecision decision;
        if (asWatcher == Id)
        {
            decision = new DisclosureDecision(DisclosureKey.Self(context), RelationshipTier.Trusted, context,
                DisclosureFields.All.ToDictionary(f => f, _ => PolicyLayer.Self));
        }
        else
        {
            if (asWatcher is not null)
            {
                await EnsureTiers([asWatcher]);
            }
            var t = asWatcher is null ? tier ?? RelationshipTier.Colleague
                : privacy.Watchers.TryGetValue(asWatcher, out var w) && w.Tier is { } wt ? wt : TierOf(asWatcher);
            var subscription = asWatcher is null ? SubscriptionStatus.Approved
                : _state.State.Watchers.TryGetValue(asWatcher, out var rec) ? rec.Status : SubscriptionStatus.None;
            decision = PolicyEngine.Decide(new PolicyInput(_org, privacy, t, asWatcher, false, subscription, context,
                presence.AppearOffline && _org.AppearOfflineAllowed, _state.State.Grants, when));
        }
        var unhidden = presence.AppearOffline ? PresenceAggregator.Aggregate(Sources() with { Preferred = null }, _settings, when) : null;
        var view = DisclosurePolicy.Disclose(new PresentityState(_profile, presence, _sequence) { Unhidden = unhidden }, decision.Key);
        var fields = DisclosureFields.All.Select(f => new FieldDecision(DisclosureFields.Name(f),
            DisclosureFields.LevelName(f, decision.Key.IsSelf ? DisclosureFields.MaxLevel(f) : decision.Key.Levels[f]), decision.DecidedBy[f])).ToList();
        return new PrivacyPreview(view, decision.Tier, context, decision.Key.Mode, fields);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TierDiff>> DryRun(UserPrivacy proposed)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        await EnsureFresh();
        var now = _time.GetUtcNow();
        var context = PolicyEngine.ContextOf(_presence!);
        var result = new List<TierDiff>();
        foreach (var tier in Enum.GetValues<RelationshipTier>())
        {
            var before = PolicyEngine.Decide(new PolicyInput(_org, Privacy, tier, null, false, SubscriptionStatus.Approved, context, false, [], now));
            var after = PolicyEngine.Decide(new PolicyInput(_org, proposed, tier, null, false, SubscriptionStatus.Approved, context, false, [], now));
            var gained = new List<FieldChange>();
            var lost = new List<FieldChange>();
            var clamped = new List<FieldDecision>();
            foreach (var f in DisclosureFields.All)
            {
                int b = before.Key.Levels[f], a = after.Key.Levels[f];
                var change = new FieldChange(DisclosureFields.Name(f), DisclosureFields.LevelName(f, b), DisclosureFields.LevelName(f, a), after.DecidedBy[f]);
                if (a > b)
                {
                    gained.Add(change);
                }
                else if (a < b)
                {
                    lost.Add(change);
                }
                if (after.DecidedBy[f] is PolicyLayer.OrganizationCeiling or PolicyLayer.OrganizationFloor)
                {
                    clamped.Add(new FieldDecision(DisclosureFields.Name(f), DisclosureFields.LevelName(f, a), after.DecidedBy[f]));
                }
            }
            result.Add(new TierDiff(tier, context, gained, lost, clamped));
        }
        return result;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Grant>> GetGrants() =>
        Task.FromResult<IReadOnlyList<Grant>>([.. _state.State.Grants.Where(g => g.Until > _time.GetUtcNow())]);

    /// <inheritdoc />
    public async Task AddGrant(Grant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var now = _time.GetUtcNow();
        _state.State.Grants.RemoveAll(g => g.Until <= now);
        if (_state.State.Grants.Count >= MaxGrants)
        {
            throw new PresenceLimitException($"at most {MaxGrants} active grants per person", "grants");
        }
        _state.State.Grants.Add(grant);
        await WriteState();
        _audit.Append(new AuditEntry(now, Id, grant.WatcherId, "grant", "rest",
            string.Join(",", grant.Rule.Levels.OrderBy(kv => kv.Key).Select(kv => $"{DisclosureFields.Name(kv.Key)}={DisclosureFields.LevelName(kv.Key, kv.Value)}")),
            $"grant {grant.Id} until {grant.Until:O}"));
        await PrivacyChanged();
    }

    /// <inheritdoc />
    public async Task<bool> RevokeGrant(string grantId)
    {
        var grant = _state.State.Grants.FirstOrDefault(g => g.Id == grantId);
        if (grant is null)
        {
            return false;
        }
        _state.State.Grants.Remove(grant);
        await WriteState();
        _audit.Append(new AuditEntry(_time.GetUtcNow(), Id, grant.WatcherId, "grant", "rest", "revoked", $"grant {grant.Id}"));
        await PrivacyChanged();
        return true;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<WatcherInfo>> GetWatchers()
    {
        var ids = _state.State.Watchers.Keys.ToList();
        await EnsureTiers(ids);
        var live = await ConnectedWatchers();
        return [.. _state.State.Watchers.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new WatcherInfo(kv.Key, kv.Value.Status, TierOf(kv.Key), kv.Value.Since, kv.Value.UpdatedAt, live.Contains(kv.Key)))];
    }

    /// <summary>
    /// Who watches now: the registered watchers that have a connection on their silo. A silo keeps a departed watcher
    /// registered for a linger (<see cref="PresenceOptions.WatcherLinger"/>), and only the silo knows who has a
    /// connection: this silo's hub is asked in process, other silos with one call each (in parallel, bounded; a silo
    /// that does not answer counts as having no one connected).
    /// </summary>
    private async Task<HashSet<string>> ConnectedWatchers()
    {
        var registered = new HashSet<string>(StringComparer.Ordinal);
        var connected = new HashSet<string>(StringComparer.Ordinal);
        List<Task<IReadOnlyList<string>>>? remote = null;
        foreach (var (silo, watch) in _silos)
        {
            registered.UnionWith(watch.Watchers.Keys);
            if (silo.Equals(_localSilo))
            {
                connected.UnionWith(_localHub.ConnectedWatchers(Id));
            }
            else
            {
                (remote ??= []).Add(AskConnected(watch.Observer));
            }
        }
        if (remote is not null)
        {
            foreach (var ids in await Task.WhenAll(remote))
            {
                connected.UnionWith(ids);
            }
        }
        connected.IntersectWith(registered);
        return connected;
    }

    private async Task<IReadOnlyList<string>> AskConnected(ISiloPresenceObserver observer)
    {
        try
        {
            return await observer.GetConnectedWatchers(Id).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogConnectedWatchersFailed(ex, Id);
            return [];
        }
    }

    /// <inheritdoc />
    public async Task<SubscriptionAnswer> RequestSubscription(string watcherId)
    {
        await EnsureFresh();
        await EnsureTiers([watcherId]);
        var now = _time.GetUtcNow();
        var tier = TierOf(watcherId);
        var existing = _state.State.Watchers.GetValueOrDefault(watcherId);
        if (existing?.Status is SubscriptionStatus.Approved or SubscriptionStatus.PoliteBlocked)
        {
            return SubscriptionAnswer.Approved;
        }
        if (existing?.Status is SubscriptionStatus.Denied or SubscriptionStatus.Pending)
        {
            // A denied or revoked watcher may ask again, but only the person can let them back in.
            if (existing.Status == SubscriptionStatus.Denied)
            {
                _state.State.Watchers[watcherId] = existing with { Status = SubscriptionStatus.Pending, UpdatedAt = now };
                await WriteState();
                _audit.Append(new AuditEntry(now, Id, watcherId, "subscription", "rest", "Pending", $"tier={tier}; asked again after a denial"));
                await PrivacyChanged();
                RosterChanged(Id, watcherId);
                RosterChanged(watcherId, Id);
            }
            return SubscriptionAnswer.Pending;
        }
        var handling = tier == RelationshipTier.Blocked ? SubscriptionHandling.PoliteBlock : PolicyEngine.HandlingFor(tier, _org, Privacy);
        var (status, answer) = handling switch
        {
            SubscriptionHandling.Allow => (SubscriptionStatus.Approved, SubscriptionAnswer.Approved),
            SubscriptionHandling.Confirm => (SubscriptionStatus.Pending, SubscriptionAnswer.Pending),
            SubscriptionHandling.PoliteBlock => (SubscriptionStatus.PoliteBlocked, SubscriptionAnswer.Approved),
            _ => (SubscriptionStatus.Denied, SubscriptionAnswer.Refused),
        };
        _state.State.Watchers[watcherId] = new WatcherRecord(status, existing?.Since ?? now, now);
        await WriteState();
        _audit.Append(new AuditEntry(now, Id, watcherId, "subscription", "rest", status.ToString(), $"tier={tier}; handling={handling}"));
        await PrivacyChanged();
        RosterChanged(Id, watcherId);
        RosterChanged(watcherId, Id);
        return answer;
    }

    /// <inheritdoc />
    public async Task<bool> DecideSubscription(string watcherId, bool approve)
    {
        if (_state.State.Watchers.GetValueOrDefault(watcherId) is not { Status: SubscriptionStatus.Pending } rec)
        {
            return false;
        }
        var now = _time.GetUtcNow();
        _state.State.Watchers[watcherId] = rec with { Status = approve ? SubscriptionStatus.Approved : SubscriptionStatus.Denied, UpdatedAt = now };
        await WriteState();
        _audit.Append(new AuditEntry(now, Id, watcherId, "subscription", "rest", approve ? "approved" : "denied", "decided by the person"));
        await PrivacyChanged();
        RosterChanged(Id, watcherId);
        RosterChanged(watcherId, Id);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> RevokeWatcher(string watcherId)
    {
        if (!_state.State.Watchers.TryGetValue(watcherId, out var rec))
        {
            return false;
        }
        var now = _time.GetUtcNow();
        _state.State.Watchers[watcherId] = rec with { Status = SubscriptionStatus.Denied, UpdatedAt = now };
        await WriteState();
        _audit.Append(new AuditEntry(now, Id, watcherId, "subscription", "rest", "revoked", "revoked by the person"));
        await PrivacyChanged();
        RosterChanged(Id, watcherId);
        RosterChanged(watcherId, Id);
        return true;
    }

    /// <inheritdoc />
    public Task PolicyChanged() => Recompute(broadcast: true);

    /// <inheritdoc />
    public async Task<PublishOutcome> PublishActivity(string integrationId, string integrationName, Herald.Core.Model.Activity activity, ActivityAction action, TimeSpan ttl)
    {
        if (_state.State.RevokedIntegrations.Contains(integrationId, StringComparer.Ordinal))
        {
            return PublishOutcome.Revoked;
        }
        var now = _time.GetUtcNow();
        var key = $"{integrationId}/{activity}";
        var live = _leases.TryGetValue(key, out var lease) && lease.IsLive(now);
        switch (action)
        {
            case ActivityAction.Start:
                _leases[key] = new ActivityLease(integrationId, integrationName, activity, live ? lease!.StartedAt : now, now + ttl);
                break;
            case ActivityAction.Renew when live:
                _leases[key] = lease! with { ExpiresAt = now + ttl };
                break;
            case ActivityAction.End when live:
                _leases.Remove(key);
                break;
            default:
                return PublishOutcome.NotRunning;
        }
        await Recompute(broadcast: true);
        return PublishOutcome.Applied;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IntegrationInfo>> GetIntegrations()
    {
        var now = _time.GetUtcNow();
        var live = _leases.Values.Where(l => l.IsLive(now)).GroupBy(l => l.IntegrationId)
            .Select(g => new IntegrationInfo(g.Key, g.First().IntegrationName, [.. g], false));
        var revoked = _state.State.RevokedIntegrations.Select(id => new IntegrationInfo(id, id, [], true));
        return Task.FromResult<IReadOnlyList<IntegrationInfo>>([.. live, .. revoked]);
    }

    /// <inheritdoc />
    public async Task SetIntegrationConsent(string integrationId, bool allow)
    {
        var changed = allow
            ? _state.State.RevokedIntegrations.Remove(integrationId)
            : !_state.State.RevokedIntegrations.Contains(integrationId, StringComparer.Ordinal);
        if (!allow && changed)
        {
            _state.State.RevokedIntegrations.Add(integrationId);
        }
        if (changed)
        {
            await WriteState();
        }
        foreach (var key in _leases.Where(kv => !allow && kv.Value.IntegrationId == integrationId).Select(kv => kv.Key).ToList())
        {
            _leases.Remove(key);
        }
        _audit.Append(new AuditEntry(_time.GetUtcNow(), Id, null, "integration", "rest", allow ? "consent restored" : "consent revoked", $"integration {integrationId}"));
        await Recompute(broadcast: true);
    }

    /// <inheritdoc />
    public Task<ReachPreferences> GetReachPreferences() => Task.FromResult(_state.State.Reach ?? ReachPreferences.Default);

    /// <inheritdoc />
    public async Task SetReachPreferences(ReachPreferences preferences)
    {
        ArgumentNullException.ThrowIfNull(preferences);
        var previous = _state.State.Reach;
        _state.State.Reach = preferences;
        try
        {
            await WriteState();
        }
        catch
        {
            _state.State.Reach = previous;
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<ReachAnswer> Reach(string askerId, Urgency urgency, string channel)
    {
        await EnsureFresh();
        var now = _time.GetUtcNow();
        DisclosureDecision decision;
        if (askerId == Id)
        {
            decision = SelfDecision();
        }
        else
        {
            await EnsureTiers([askerId]);
            decision = Decide(askerId, now);
            Audit(askerId, "reach", channel, decision);
        }
        var plan = ReachPlanner.Plan(ReachInputFor(decision, urgency, now));
        return new ReachAnswer(ViewFor(decision.Key), plan);
    }

    /// <inheritdoc />
    public async Task<RouteDecision> Route(string? callerId, Urgency urgency)
    {
        await EnsureFresh();
        var now = _time.GetUtcNow();
        if (callerId is not null)
        {
            await EnsureTiers([callerId]);
        }
        var tier = callerId is null ? RelationshipTier.External : callerId == Id ? RelationshipTier.Trusted : TierOf(callerId);
        // A call is not a subscription: the caller's tier decides what the answer may reveal — unless the person
        // denied, revoked or polite-blocked this caller, which holds for calls too.
        var subscription = callerId is not null && _state.State.Watchers.TryGetValue(callerId, out var rec)
            && rec.Status is SubscriptionStatus.Denied or SubscriptionStatus.PoliteBlocked ? rec.Status : SubscriptionStatus.Approved;
        var decision = PolicyEngine.Decide(new PolicyInput(_org, Privacy, tier, callerId, false, subscription,
            PolicyEngine.ContextOf(_presence!), _presence!.AppearOffline && _org.AppearOfflineAllowed, _state.State.Grants, now));
        var result = RouteDecider.Decide(ReachInputFor(decision, urgency, now));
        _audit.Append(new AuditEntry(now, Id, callerId ?? "(unknown caller)", "route", "pbx", $"{result.Action}: {result.Announcement}",
            $"tier={tier}; context={decision.Context}; urgency={urgency}"));
        return result;
    }

    private ReachInput ReachInputFor(DisclosureDecision decision, Urgency urgency, DateTimeOffset now)
    {
        // An asker exempt from a narrowed appear offline is planned against the real presence.
        var presence = decision.Key.Mode == ViewMode.Normal && _presence!.AppearOffline && _unhidden is not null ? _unhidden : _presence!;
        return new ReachInput(_profile, presence, _state.State.Reach ?? ReachPreferences.Default, decision.Tier, decision.Key,
            _org.BreakThroughTiers ?? ReachInput.AnyTierMayBreakThrough, urgency, now);
    }

    /// <inheritdoc />
    public Task UnwatchFromSilo(SiloAddress silo, IReadOnlyList<string>? watcherIds)
    {
        if (watcherIds is null)
        {
            _silos.Remove(silo);
        }
        else if (_silos.TryGetValue(silo, out var watch))
        {
            foreach (var w in watcherIds)
            {
                watch.Watchers.Remove(w);
            }
            if (watch.Watchers.Count == 0)
            {
                _silos.Remove(silo);
            }
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> GetContacts() => Task.FromResult<IReadOnlyList<string>>([.. _state.State.Contacts]);

    /// <inheritdoc />
    public async Task<bool> AddContact(string contactId)
    {
        if (_state.State.Contacts.Contains(contactId, StringComparer.Ordinal))
        {
            return false;
        }
        if (_state.State.Contacts.Count >= _options.MaxContacts)
        {
            throw new PresenceLimitException($"at most {_options.MaxContacts} contacts per person", "userId");
        }
        _state.State.Contacts.Add(contactId);
        await WriteState();
        RosterChanged(Id, contactId);
        return true;
    }

    /// <inheritdoc />
    public async Task<bool> RemoveContact(string contactId)
    {
        if (_state.State.Contacts.RemoveAll(c => c == contactId) == 0)
        {
            return false;
        }
        await WriteState();
        RosterChanged(Id, contactId);
        return true;
    }

    private UserPrivacy Privacy => _state.State.Privacy ?? UserPrivacy.Default;

    private PresenceView OwnerView() => ViewFor(DisclosureKey.Self(PolicyEngine.ContextOf(_presence!)));

    /// <summary>The owner sees every field, decided by the owner (one shared, read-only provenance map).</summary>
    private static readonly IReadOnlyDictionary<DisclosureField, PolicyLayer> SelfLayers =
        System.Collections.Frozen.FrozenDictionary.ToFrozenDictionary(DisclosureFields.All.ToDictionary(f => f, _ => PolicyLayer.Self));

    private DisclosureDecision SelfDecision()
    {
        var context = PolicyEngine.ContextOf(_presence!);
        return new DisclosureDecision(DisclosureKey.Self(context), RelationshipTier.Trusted, context, SelfLayers);
    }

    private RelationshipTier TierOf(string watcherId) =>
        Privacy.Watchers.TryGetValue(watcherId, out var w) && w.Tier is { } t ? t
        : _tiers.TryGetValue(watcherId, out var cached) ? cached : RelationshipTier.External;

    /// <summary>Loads the directory tier of watchers not seen yet (one directory query for all of them).</summary>
    private async Task EnsureTiers(IReadOnlyList<string> watcherIds)
    {
        List<string>? missing = null;
        for (var i = 0; i < watcherIds.Count; i++)
        {
            var w = watcherIds[i];
            if (w != Id && !_tiers.ContainsKey(w) && (missing is null || !missing.Contains(w)))
            {
                (missing ??= []).Add(w);
            }
        }
        if (missing is null)
        {
            return;
        }
        var profiles = (await _directory.GetPeople(missing)).ToDictionary(p => p.Id, StringComparer.Ordinal);
        foreach (var w in missing)
        {
            _tiers[w] = PolicyEngine.DirectoryTier(_profile, profiles.GetValueOrDefault(w));
        }
    }

    /// <summary>Re-reads the organization policy if it changed since the last decision.</summary>
    private async Task EnsureFresh()
    {
        if (_policies.Version != _orgVersion || _presence is null)
        {
            await Recompute(broadcast: true);
        }
    }

    private DisclosureDecision Decide(string watcherId, DateTimeOffset now)
    {
        var subscription = _state.State.Watchers.TryGetValue(watcherId, out var rec) ? rec.Status : SubscriptionStatus.None;
        return PolicyEngine.Decide(new PolicyInput(_org, Privacy, TierOf(watcherId), watcherId, false, subscription,
            PolicyEngine.ContextOf(_presence!), _presence!.AppearOffline && _org.AppearOfflineAllowed, _state.State.Grants, now));
    }

    private void Audit(string watcherId, string kind, string channel, DisclosureDecision decision)
    {
        var (fields, rule) = AuditText.Of(decision);
        _audit.Append(new AuditEntry(_time.GetUtcNow(), Id, watcherId, kind, channel, fields, rule));
    }

    private async Task PrivacyChanged()
    {
        _privacyVersion++;
        await Recompute(broadcast: true);
    }

    private PresenceSources Sources() =>
        new(_state.State.Preferred, _state.State.Note, _devices, _leases, _state.State.LastSeen) { Calendar = _state.State.Calendar };

    private PresentityState CurrentState() => new(_profile, _presence!, _sequence) { Unhidden = _unhidden };

    private PresenceView ViewFor(DisclosureKey key)
    {
        if (!_views.TryGetValue(key, out var view))
        {
            view = DisclosurePolicy.Disclose(CurrentState(), key);
            _views[key] = view;
        }
        return view;
    }

    /// <summary>
    /// Drops what expired, re-aggregates, and when anything visible changed issues a new sequence number and
    /// sends each watching silo the views that changed. When the policy inputs changed (context, organization
    /// policy, the person's rules, grants, subscriptions, appear offline), every watcher's disclosure is decided
    /// again, every view in use is rendered anew under the new sequence, and each silo is told its watchers' new
    /// keys; each change in the fields a watcher receives is recorded in the audit.
    /// </summary>
    private async Task Recompute(bool broadcast)
    {
        var now = _time.GetUtcNow();
        if (_policies.Version != _orgVersion)
        {
            (_org, _orgVersion) = await _policies.Get();
            _settings = SettingsFor(_profile);
        }
        var sources = Sources();
        var pruned = PresenceAggregator.Prune(sources, _settings, now);
        var durableChanged = false;
        if (!ReferenceEquals(pruned, sources))
        {
            durableChanged = ApplyPruned(pruned);
        }

        var aggregate = PresenceAggregator.Aggregate(pruned, _settings, now);
        var changed = _presence is null || !aggregate.SameStateAs(_presence);
        _presence = aggregate;
        // Appear offline may apply to some tiers only (or be switched off by the organization): keep the real
        // presence for the others.
        _unhidden = aggregate.AppearOffline ? PresenceAggregator.Aggregate(pruned with { Preferred = null }, _settings, now) : null;
        var stamp = new PolicyStamp(PolicyEngine.ContextOf(aggregate), aggregate.AppearOffline, _orgVersion, _privacyVersion,
            ActiveGrantIds(now));
        var policyChanged = stamp != _stamp;
        _stamp = stamp;
        if (policyChanged)
        {
            await EnsureTiers([.. _silos.Values.SelectMany(w => w.Watchers.Keys)]);
        }
        if (changed || policyChanged)
        {
            _sequence = _clock.Next(now);
            // Views whose content did not change keep their sequence: a watcher (blocked, pending, or simply
            // unaffected) must not learn that something changed for someone else.
            var changedViews = RefreshViews();
            var rekeys = policyChanged ? Rekey(now) : null;
            if (broadcast && (changedViews.Length > 0 || rekeys is { Count: > 0 }))
            {
                Broadcast(changedViews, rekeys);
            }
        }
        ScheduleExpiry(Min(aggregate.NextChangeAt, NextGrantBoundary(now)));
        if (durableChanged)
        {
            await WriteState();
        }
    }

    /// <summary>
    /// Keeps only what <paramref name="pruned"/> kept; true when a durable field changed. A method of its own: its
    /// lambdas would otherwise allocate their closure on every change, not only when something expired.
    /// </summary>
    private bool ApplyPruned(PresenceSources pruned)
    {
        foreach (var id in _devices.Keys.Where(k => !pruned.Devices.ContainsKey(k)).ToList())
        {
            _devices.Remove(id);
        }
        foreach (var id in _leases.Keys.Where(k => !pruned.Activities.ContainsKey(k)).ToList())
        {
            _leases.Remove(id);
        }
        var durableChanged = pruned.LastSeen != _state.State.LastSeen || pruned.Preferred != _state.State.Preferred
            || pruned.Note != _state.State.Note;
        _state.State.Preferred = pruned.Preferred;
        _state.State.Note = pruned.Note;
        _state.State.LastSeen = pruned.LastSeen;
        return durableChanged;
    }

    /// <summary>
    /// Re-decides every registered watcher. Only watchers whose disclosure changed are told (with the current
    /// sequence, so their connection takes the new view even if the new key's view is older), and audited.
    /// </summary>
    private Dictionary<SiloAddress, List<WatchGrant>> Rekey(DateTimeOffset now)
    {
        var rekeys = new Dictionary<SiloAddress, List<WatchGrant>>();
        foreach (var (silo, watch) in _silos)
        {
            foreach (var (watcherId, oldKey) in watch.Watchers.ToList())
            {
                var decision = watcherId == Id ? SelfDecision() : Decide(watcherId, now);
                if (decision.Key == oldKey)
                {
                    continue;
                }
                watch.Watchers[watcherId] = decision.Key;
                if (!rekeys.TryGetValue(silo, out var list))
                {
                    rekeys[silo] = list = [];
                }
                list.Add(new WatchGrant(watcherId, decision.Key, ViewFor(decision.Key) with { Sequence = _sequence }));
                if (watcherId != Id && (oldKey.Levels != decision.Key.Levels || oldKey.Mode != decision.Key.Mode))
                {
                    Audit(watcherId, "live", "live", decision);
                }
            }
        }
        return rekeys;
    }

    private DateTimeOffset? NextGrantBoundary(DateTimeOffset now)
    {
        DateTimeOffset? next = null;
        foreach (var g in _state.State.Grants)
        {
            if (g.From > now && (next is null || g.From < next))
            {
                next = g.From;
            }
            if (g.Until > now && (next is null || g.Until < next))
            {
                next = g.Until;
            }
        }
        return next;
    }

    /// <summary>The ids of the grants active at <paramref name="now"/>, comma-separated ("" for none: no allocation).</summary>
    private string ActiveGrantIds(DateTimeOffset now)
    {
        var grants = _state.State.Grants;
        var any = false;
        foreach (var g in grants)
        {
            if (g.IsActive(now))
            {
                any = true;
                break;
            }
        }
        return any ? JoinActiveGrantIds(grants, now) : "";
    }

    // Apart from ActiveGrantIds: the lambda's closure (capturing now) would otherwise be allocated on every change.
    private static string JoinActiveGrantIds(List<Grant> grants, DateTimeOffset now) =>
        string.Join(",", grants.Where(g => g.IsActive(now)).Select(g => g.Id));

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>
    /// Forgets every rendered view (the profile, or the state adopted from storage, changed). The next
    /// <see cref="RefreshViews"/> then looks through every registered watcher's key again.
    /// </summary>
    private void ClearViews()
    {
        _views.Clear();
        _watcherKeysUnrendered = true;
    }

    private KeyedView[] RefreshViews()
    {
        // Every key in use: the rendered ones plus any watcher's key not rendered yet. Every place that gives a watcher
        // a key renders that key's view at once (ViewFor, for the grant), so a watcher's key can be missing from _views
        // only after ClearViews: only then are the watchers (20 per person, on every change) looked through. A reused
        // list, not a set per change: a person has a handful of distinct keys.
        var keys = _keyScratch;
        keys.Clear();
        keys.AddRange(_views.Keys);
        var rendered = keys.Count;
        if (_watcherKeysUnrendered)
        {
            foreach (var silo in _silos.Values)
            {
                foreach (var key in silo.Watchers.Values)
                {
                    if (!_views.ContainsKey(key) && keys.IndexOf(key, rendered) < 0)
                    {
                        keys.Add(key);
                    }
                }
            }
        }
        var state = CurrentState();
        var changed = t_changedScratch ??= [];
        changed.Clear();
        foreach (var key in keys)
        {
            // Every view in _views was rendered from the current profile (a profile change clears them), so the
            // earlier view's contact list can be reused.
            var known = _views.TryGetValue(key, out var old);
            var view = DisclosurePolicy.Disclose(state, key, known ? old : null);
            if (known && old!.SameContentAs(view))
            {
                continue;
            }
            _views[key] = view;
            changed.Add(new KeyedView(key, view));
        }
        _watcherKeysUnrendered = false; // every key in use has its view now
        // An exact array for the broadcast (which keeps it): no list object and no spare slots per change.
        var result = changed.Count == 0 ? [] : changed.ToArray();
        changed.Clear();
        return result;
    }

    private void Broadcast(KeyedView[] views, Dictionary<SiloAddress, List<WatchGrant>>? rekeys)
    {
        var expiry = Stopwatch.GetTimestamp() - (long)(_options.SiloWatchRenewal.TotalSeconds * 3 * Stopwatch.Frequency);
        var snapshot = _membership.CurrentSnapshot;
        List<SiloAddress>? dead = null;
        var shared = new PresenceBroadcast(Id, _sequence, views);
        foreach (var (silo, watch) in _silos)
        {
            if (watch.RenewedAt < expiry || snapshot.GetSiloStatus(silo) == SiloStatus.Dead)
            {
                (dead ??= []).Add(silo);
                continue;
            }
            var message = rekeys is not null && rekeys.TryGetValue(silo, out var r) ? shared with { Rekeys = r } : shared;
            if (silo.Equals(_localSilo))
            {
                // This silo's own hub: handed over in this turn, without an Orleans message (the hub only queues
                // views on its sinks and never blocks).
                try
                {
                    _localHub.OnPresence(message);
                }
                catch (Exception ex)
                {
                    // Like the one-way message it replaces: a delivery problem never fails the person's change.
                    LogLocalDeliveryFailed(ex, Id);
                }
                continue;
            }
            // One-way: a slow or dead silo never blocks this person's turn; dead silos are pruned above.
            _ = watch.Observer.OnPresence(message);
        }
        if (dead is not null)
        {
            foreach (var silo in dead)
            {
                _silos.Remove(silo);
            }
        }
    }

    private void ScheduleExpiry(DateTimeOffset? due)
    {
        var keepAlive = _devices.Count > 0 || _leases.Count > 0;
        if (due == _expiryDue && keepAlive == _expiryKeepsAlive && _expiryTimer is not null)
        {
            return;
        }
        _expiryDue = due;
        if (due is null)
        {
            _expiryTimer?.Dispose();
            _expiryTimer = null;
            return;
        }
        var delay = due.Value - _time.GetUtcNow();
        if (delay < TimeSpan.Zero)
        {
            delay = TimeSpan.Zero;
        }
        if (_expiryTimer is not null && keepAlive == _expiryKeepsAlive)
        {
            _expiryTimer.Change(delay, Timeout.InfiniteTimeSpan);
            return;
        }
        _expiryTimer?.Dispose();
        _expiryKeepsAlive = keepAlive;
        _expiryTimer = this.RegisterGrainTimer(
            _ => OnExpiryTimer(),
            new GrainTimerCreationOptions(delay, Timeout.InfiniteTimeSpan) { KeepAlive = keepAlive, Interleave = false });
    }

    private async Task OnExpiryTimer()
    {
        _expiryDue = null; // the one-shot fired; Recompute schedules the next one
        _expiryTimer?.Dispose();
        _expiryTimer = null;
        try
        {
            await Recompute(broadcast: true);
        }
        catch (InconsistentStateException ex)
        {
            LogStaleActivation(ex, Id);
            await AdoptStoredStateAfterConflict();
        }
    }

    private void EnsureLastSeenTimer()
    {
        _lastSeenTimer ??= this.RegisterGrainTimer(
            _ => PersistLastSeen(),
            new GrainTimerCreationOptions(_options.LastSeenPersistInterval, _options.LastSeenPersistInterval) { KeepAlive = false });
    }

    private async Task PersistLastSeen()
    {
        if (_devices.Count == 0)
        {
            _lastSeenTimer?.Dispose();
            _lastSeenTimer = null;
            return;
        }
        var latest = _devices.Values.Max(d => d.LastHeartbeat);
        if (_state.State.LastSeen is null || latest > _state.State.LastSeen)
        {
            _state.State.LastSeen = latest;
            try
            {
                await WriteState();
            }
            catch (InconsistentStateException ex)
            {
                LogStaleActivation(ex, Id);
                await AdoptStoredStateAfterConflict();
            }
        }
    }

    /// <inheritdoc />
    public async Task Erase()
    {
        _devices.Clear();
        _leases.Clear();
        var highWater = Math.Max(_state.State.SequenceHighWater, _sequence);
        _state.State = new PersonState { SequenceHighWater = highWater };
        await _state.WriteStateAsync();
        await ProfileChanged(null);
    }

    private Task WriteState()
    {
        _state.State.SequenceHighWater = Math.Max(_state.State.SequenceHighWater, _sequence);
        return _state.WriteStateAsync();
    }

    private AggregationSettings SettingsFor(PersonProfile profile) =>
        new(_options.GraceWindow, _options.IdleThreshold, profile.WorkHours ?? _org.DefaultWorkHours, TimeZones.Find(profile.TimeZone));

    private readonly record struct PolicyStamp(PrivacyContext Context, bool AppearOffline, long OrgVersion, int PrivacyVersion, string ActiveGrants);

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not persist last-seen of {PersonId} on deactivation")]
    private partial void LogLastSeenWriteFailed(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A write of {PersonId} was rejected: another activation wrote first; adopting the stored state")]
    private partial void LogStaleActivation(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Information, Message = "The state of {PersonId} changed in storage behind this activation; adopted and re-broadcast")]
    private partial void LogAdopted(string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handing a change of {PersonId} to this silo's hub failed")]
    private partial void LogLocalDeliveryFailed(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A silo did not say which watchers of {PersonId} are connected; counted as none")]
    private partial void LogConnectedWatchersFailed(Exception ex, string personId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not re-read the state of {PersonId} after a write conflict")]
    private partial void LogAdoptFailed(Exception ex, string personId);

    private sealed class SiloWatch(ISiloPresenceObserver observer)
    {
        public ISiloPresenceObserver Observer { get; set; } = observer;

        public Dictionary<string, DisclosureKey> Watchers { get; set; } = new(StringComparer.Ordinal);

        public long RenewedAt { get; set; }

        /// <summary>
        /// Before adding up to <paramref name="adding"/> watchers: when they would not fit, grows the map to twice its
        /// size as the map itself would, but no further than <paramref name="likely"/> watchers while below that (and
        /// always enough for the ones being added). Only the room changes, never the entries.
        /// </summary>
        public void MakeRoom(int adding, int likely)
        {
            var capacity = Watchers.EnsureCapacity(0);
            var needed = Watchers.Count + adding;
            if (needed > capacity)
            {
                // Past the likely number (people watching without a subscription) it doubles as before.
                var target = Watchers.Count >= likely ? 2 * Watchers.Count : Math.Min(2 * Watchers.Count, likely);
                Watchers.EnsureCapacity(Math.Max(needed, target));
            }
        }
    }
}

/// <summary>Names of the grain-storage providers Herald registers.</summary>
public static class HeraldStorage
{
    /// <summary>The provider that holds person state.</summary>
    public const string ProviderName = "herald";
}
