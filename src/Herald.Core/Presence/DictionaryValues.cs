namespace Herald.Core.Presence;

/// <summary>
/// Enumerates the values of a read-only dictionary without allocating when it is a
/// <see cref="Dictionary{TKey, TValue}"/> (the type the person grain and the serializer hand over): enumerating
/// <see cref="IReadOnlyDictionary{TKey, TValue}.Values"/> through the interface boxes an enumerator per loop, and the
/// aggregation loops over a person's devices and leases several times on every change.
/// </summary>
internal static class DictionaryValues
{
    public static Enumerable<T> Of<T>(IReadOnlyDictionary<string, T> source) => new(source);

    public readonly struct Enumerable<T>(IReadOnlyDictionary<string, T> source)
    {
        public Enumerator<T> GetEnumerator() => new(source);
    }

    public struct Enumerator<T>
    {
        private Dictionary<string, T>.ValueCollection.Enumerator _fast;
        private readonly IEnumerator<T>? _slow;
        private readonly bool _empty;

        public Enumerator(IReadOnlyDictionary<string, T> source)
        {
            if (source.Count == 0)
            {
                _empty = true;
            }
            else if (source is Dictionary<string, T> d)
            {
                _fast = d.Values.GetEnumerator();
            }
            else
            {
                _slow = source.Values.GetEnumerator();
            }
        }

        public T Current => _slow is { } slow ? slow.Current : _fast.Current;

        public bool MoveNext() => !_empty && (_slow is { } slow ? slow.MoveNext() : _fast.MoveNext());

        public readonly void Dispose() => _slow?.Dispose();
    }
}
