namespace Herald.Core.Presence;

/// <summary>
/// A per-connection outbox that keeps only the newest item per person: a burst of updates to one person reaches the
/// connection as its final state, never out of order, and items with a sequence not above the last one taken or
/// queued are dropped. Thread-safe; one consumer drains it in batches.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class LatestStateMailbox<T>(Func<T, string> keyOf, Func<T, long> sequenceOf)
    where T : class
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, T> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _lastTaken = new(StringComparer.Ordinal);
    private List<string> _order = [];

    /// <summary>Number of persons with a pending item.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Offers an item; returns true if it is now pending (false when stale).</summary>
    public bool Offer(T item)
    {
        var key = keyOf(item);
        var seq = sequenceOf(item);
        lock (_lock)
        {
            if (_lastTaken.TryGetValue(key, out var taken) && seq <= taken)
            {
                return false;
            }
            if (_pending.TryGetValue(key, out var existing))
            {
                if (sequenceOf(existing) >= seq)
                {
                    return false;
                }
                _pending[key] = item;
                return true;
            }
            _pending[key] = item;
            _order.Add(key);
            return true;
        }
    }

    /// <summary>
    /// The consumer's fast path for one item while it can write at once: when nothing is pending, takes
    /// <paramref name="item"/> directly (it is never queued, so the mailbox keeps no reference to it) and returns
    /// <see cref="DirectTake.Taken"/>; <see cref="DirectTake.Stale"/> when its sequence is not above the last one taken
    /// (dropped, as <see cref="Offer"/> would); <see cref="DirectTake.Busy"/> when items are pending (offer it instead,
    /// so that it is written after them). The caller must hold the consumer's send lock, as when it takes items.
    /// </summary>
    public DirectTake TryTakeDirect(T item)
    {
        var key = keyOf(item);
        var seq = sequenceOf(item);
        lock (_lock)
        {
            if (_pending.Count != 0)
            {
                return DirectTake.Busy;
            }
            ref var taken = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_lastTaken, key, out var known);
            if (known && seq <= taken)
            {
                return DirectTake.Stale;
            }
            taken = seq;
            return DirectTake.Taken;
        }
    }

    /// <summary>Takes every pending item, oldest person first, and remembers their sequences.</summary>
    public IReadOnlyList<T> TakeAll()
    {
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return [];
            }
            var items = new List<T>(_order.Count);
            foreach (var key in _order)
            {
                var item = _pending[key];
                items.Add(item);
                _lastTaken[key] = sequenceOf(item);
            }
            _pending.Clear();
            _order = [];
            return items;
        }
    }

    /// <summary>
    /// Moves every pending item into <paramref name="items"/> (cleared first), oldest person first, and remembers their
    /// sequences; returns how many. Reuses the list and the internal order list, so a steady consumer allocates nothing.
    /// </summary>
    public int TakeInto(List<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        items.Clear();
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                return 0;
            }
            foreach (var key in _order)
            {
                var item = _pending[key];
                items.Add(item);
                _lastTaken[key] = sequenceOf(item);
            }
            _pending.Clear();
            _order.Clear();
            return items.Count;
        }
    }

    /// <summary>
    /// Records that the consumer already has <paramref name="key"/> at <paramref name="sequence"/> (e.g. a snapshot it
    /// was handed directly): later offers not above it are dropped, and a pending item not above it is removed.
    /// </summary>
    public void Acknowledge(string key, long sequence)
    {
        lock (_lock)
        {
            if (!_lastTaken.TryGetValue(key, out var taken) || sequence > taken)
            {
                _lastTaken[key] = sequence;
            }
            if (_pending.TryGetValue(key, out var existing) && sequenceOf(existing) <= sequence)
            {
                _pending.Remove(key);
                _order.Remove(key);
            }
        }
    }

    /// <summary>
    /// Makes room for the sequences of <paramref name="keys"/> persons without growing again (a consumer that knows how
    /// many persons it follows sizes the mailbox to them instead of to the next doubling).
    /// </summary>
    public void EnsureCapacity(int keys)
    {
        lock (_lock)
        {
            _lastTaken.EnsureCapacity(keys);
        }
    }

    /// <summary>Forgets the last sequence taken for <paramref name="key"/> (the connection stopped watching it).</summary>
    public void Forget(string key)
    {
        lock (_lock)
        {
            _lastTaken.Remove(key);
            if (_pending.Remove(key))
            {
                _order.Remove(key);
            }
        }
    }
}

/// <summary>The outcome of <see cref="LatestStateMailbox{T}.TryTakeDirect"/>.</summary>
public enum DirectTake
{
    /// <summary>Taken: the consumer writes it now.</summary>
    Taken,
    /// <summary>Not newer than what was taken: dropped.</summary>
    Stale,
    /// <summary>Items are pending: offer it behind them.</summary>
    Busy,
}
