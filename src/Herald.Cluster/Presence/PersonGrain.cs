using System.Diagnostics;
using Herald.Cluster.Directory;
using Herald.Core.Model;
using Herald.Core.Presence;
using Herald.Core.Privacy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Herald.Cluster.Presence;

/// <summary>
/// One activation per person. Holds the person's sources (durable preferred status and note, ephemeral device and
/// integration leases), recomputes the aggregate on every change, issues sequence numbers, and sends each silo
/// that has watchers one message per change carrying one view per distinct disclosure.
/// </summary>
public sealed partial class PersonGrain : Grain, IPersonGrain
{
    private readonly IPersistentState<PersonState> _state;
    private readonly IDirectoryStore _directory;
    private readonly TimeProvider _time;
    private readonly PresenceOptions _options;
    private readonly IClusterMembershipService _membership;
    private readonly ILogger<PersonGrain> _logger;

    private readonly Dictionary<string, DeviceSession> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActivityLease> _leases = new(StringComparer.Ordinal);
    private readonly Dictionary<SiloAddress, SiloWatch> _silos = [];
    private readonly Dictionary<DisclosureKey, PresenceView> _views = [];

    private PersonProfile _profile = null!;
    private AggregationSettings _settings = AggregationSettings.Default;
    private SequenceClock _clock = new();
    private AggregatedPresence? _presence;
    private long _sequence;
    private IGrainTimer? _expiryTimer;
    private DateTimeOffset? _expiryDue;
    private bool _expiryKeepsAlive;
    private IGrainTimer? _lastSeenTimer;

    /// <summary>Creates the grain.</summary>
    public PersonGrain(
        [PersistentState("person", HeraldStorage.ProviderName)] IPersistentState<PersonState> state,
        IDirectoryStore directory, TimeProvider time, IOptions<PresenceOptions> options,
        IClusterMembershipService membership, ILogger<PersonGrain> logger)
    {
        _state = state;
        _directory = directory;
        _time = time;
        _options = options.Value;
        _membership = membership;
        _logger = logger;
    }

    private string Id => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _profile = await _directory.GetPerson(Id, cancellationToken) ?? PersonProfile.Minimal(Id);
        _settings = SettingsFor(_profile);
        _clock = new SequenceClock(_state.State.SequenceHighWater);
        await Recompute(broadcast: false);
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
    public async Task<PresenceView> SetStatus(SetStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var now = _time.GetUtcNow();
        var (previousPreferred, previousNote) = (_state.State.Preferred, _state.State.Note);
        if (status.Availability is not null || status.Activity is not null)
        {
            var effective = status.Availability ?? Activities.Implied(status.Activity!.Value);
            var until = status.Until ?? now + PreferredStatus.DefaultLifetime(effective);
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
    public async Task<PresenceView> ClearStatus()
    {
        var (previousPreferred, previousNote) = (_state.State.Preferred, _state.State.Note);
        _state.State.Preferred = null;
        _state.State.Note = null;
        await WriteDurableChange(previousPreferred, previousNote);
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
    public async Task<PresenceView> PutDevice(DeviceReport report)
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
    public Task<PresenceView> GetView(WatcherRelation watcher)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        return Task.FromResult(ViewFor(DisclosurePolicy.KeyOf(watcher)));
    }

    /// <inheritdoc />
    public Task<PresenceView> GetViewFor(string watcherId) => Task.FromResult(ViewFor(KeyFor(watcherId)));

    /// <inheritdoc />
    public async Task ProfileChanged(PersonProfile? profile)
    {
        _profile = profile ?? PersonProfile.Minimal(Id);
        _settings = SettingsFor(_profile);
        _views.Clear(); // contact methods may have changed for every disclosure
        _presence = null; // force a new sequence number so watchers take the new views
        await Recompute(broadcast: true);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WatchGrant>> WatchFromSilo(SiloAddress silo, ISiloPresenceObserver observer, IReadOnlyList<string> watcherIds, bool replace)
    {
        ArgumentNullException.ThrowIfNull(watcherIds);
        if (!_silos.TryGetValue(silo, out var watch))
        {
            watch = new SiloWatch(observer);
            _silos[silo] = watch;
        }
        watch.Observer = observer;
        watch.RenewedAt = Stopwatch.GetTimestamp();
        if (replace)
        {
            watch.Watchers.Clear();
        }
        var grants = new List<WatchGrant>(watcherIds.Count);
        foreach (var watcherId in watcherIds)
        {
            var key = KeyFor(watcherId);
            watch.Watchers[watcherId] = key;
            grants.Add(new WatchGrant(watcherId, key, ViewFor(key)));
        }
        return Task.FromResult<IReadOnlyList<WatchGrant>>(grants);
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
        return true;
    }

    private PresenceView OwnerView() => ViewFor(new DisclosureKey(true, RelationshipTier.Trusted));

    private DisclosureKey KeyFor(string watcherId) =>
        DisclosurePolicy.KeyOf(watcherId == Id ? WatcherRelation.Self(Id) : new WatcherRelation(watcherId, false, RelationshipTier.Colleague));

    private PresenceView ViewFor(DisclosureKey key)
    {
        if (!_views.TryGetValue(key, out var view))
        {
            view = DisclosurePolicy.Disclose(new PresentityState(_profile, _presence!, _sequence), key);
            _views[key] = view;
        }
        return view;
    }

    /// <summary>
    /// Drops what expired, re-aggregates, and when anything visible changed issues a new sequence number and
    /// sends each watching silo the views that changed. Each disclosure key keeps the sequence at which its own
    /// content last changed, so a watcher never sees a new number for a view that did not change for them.
    /// </summary>
    private async Task Recompute(bool broadcast)
    {
        var now = _time.GetUtcNow();
        var sources = new PresenceSources(_state.State.Preferred, _state.State.Note, _devices, _leases, _state.State.LastSeen);
        var pruned = PresenceAggregator.Prune(sources, _settings, now);
        var durableChanged = false;
        if (!ReferenceEquals(pruned, sources))
        {
            foreach (var id in _devices.Keys.Where(k => !pruned.Devices.ContainsKey(k)).ToList())
            {
                _devices.Remove(id);
            }
            foreach (var id in _leases.Keys.Where(k => !pruned.Activities.ContainsKey(k)).ToList())
            {
                _leases.Remove(id);
            }
            durableChanged = pruned.LastSeen != _state.State.LastSeen || pruned.Preferred != _state.State.Preferred
                || pruned.Note != _state.State.Note;
            _state.State.Preferred = pruned.Preferred;
            _state.State.Note = pruned.Note;
            _state.State.LastSeen = pruned.LastSeen;
        }

        var aggregate = PresenceAggregator.Aggregate(pruned, _settings, now);
        var changed = _presence is null || !aggregate.SameStateAs(_presence);
        _presence = aggregate;
        if (changed)
        {
            _sequence = _clock.Next(now);
            var changedViews = RefreshViews();
            if (broadcast && changedViews.Count > 0)
            {
                Broadcast(new PresenceBroadcast(Id, _sequence, changedViews));
            }
        }
        ScheduleExpiry(aggregate.NextChangeAt);
        if (durableChanged)
        {
            await WriteState();
        }
    }

    private List<KeyedView> RefreshViews()
    {
        var keys = new HashSet<DisclosureKey>(_views.Keys);
        foreach (var silo in _silos.Values)
        {
            keys.UnionWith(silo.Watchers.Values);
        }
        var state = new PresentityState(_profile, _presence!, _sequence);
        var changed = new List<KeyedView>();
        foreach (var key in keys)
        {
            var view = DisclosurePolicy.Disclose(state, key);
            if (_views.TryGetValue(key, out var old) && old.SameContentAs(view))
            {
                continue;
            }
            _views[key] = view;
            changed.Add(new KeyedView(key, view));
        }
        return changed;
    }

    private void Broadcast(PresenceBroadcast message)
    {
        var expiry = Stopwatch.GetTimestamp() - (long)(_options.SiloWatchRenewal.TotalSeconds * 3 * Stopwatch.Frequency);
        var snapshot = _membership.CurrentSnapshot;
        List<SiloAddress>? dead = null;
        foreach (var (silo, watch) in _silos)
        {
            if (watch.RenewedAt < expiry || snapshot.GetSiloStatus(silo) == SiloStatus.Dead)
            {
                (dead ??= []).Add(silo);
                continue;
            }
            // One-way: a slow or dead silo never blocks this person's turn; dead silos are pruned above.
            _ = watch.Observer.OnPresence(message);
        }
        foreach (var silo in dead ?? [])
        {
            _silos.Remove(silo);
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

    private Task OnExpiryTimer()
    {
        _expiryDue = null; // the one-shot fired; Recompute schedules the next one
        _expiryTimer?.Dispose();
        _expiryTimer = null;
        return Recompute(broadcast: true);
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
            await WriteState();
        }
    }

    private Task WriteState()
    {
        _state.State.SequenceHighWater = Math.Max(_state.State.SequenceHighWater, _sequence);
        return _state.WriteStateAsync();
    }

    private AggregationSettings SettingsFor(PersonProfile profile) =>
        new(_options.GraceWindow, _options.IdleThreshold, profile.WorkHours, TimeZones.Find(profile.TimeZone));

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not persist last-seen of {PersonId} on deactivation")]
    private partial void LogLastSeenWriteFailed(Exception ex, string personId);

    private sealed class SiloWatch(ISiloPresenceObserver observer)
    {
        public ISiloPresenceObserver Observer { get; set; } = observer;

        public Dictionary<string, DisclosureKey> Watchers { get; } = new(StringComparer.Ordinal);

        public long RenewedAt { get; set; }
    }
}

/// <summary>Names of the grain-storage providers Herald registers.</summary>
public static class HeraldStorage
{
    /// <summary>The provider that holds person state.</summary>
    public const string ProviderName = "herald";
}
