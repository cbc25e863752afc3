using Herald.Cluster.Directory;
using Herald.Core.Model;

namespace Herald.Server.Apis;

/// <summary>E.164 normalization and a phone-number → person index over the directory.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The semaphore never allocates a wait handle.")]
public sealed class PhoneNumbers(IDirectoryStore directory, TimeProvider time)
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, string>? _index;
    private DateTimeOffset _builtAt;

    /// <summary>
    /// The E.164 form of <paramref name="text"/> (<c>+</c> and 8–15 digits; spaces, dots, dashes and parentheses
    /// ignored; a leading <c>00</c> read as <c>+</c>), or null when it is not an international number.
    /// </summary>
    public static string? ToE164(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var t = text.Trim();
        if (t.StartsWith("tel:", StringComparison.OrdinalIgnoreCase))
        {
            t = t[4..];
        }
        if (t.StartsWith("00", StringComparison.Ordinal))
        {
            t = "+" + t[2..];
        }
        if (!t.StartsWith('+'))
        {
            return null;
        }
        var digits = new System.Text.StringBuilder("+");
        foreach (var c in t.AsSpan(1))
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
            else if (c is not (' ' or '-' or '.' or '(' or ')'))
            {
                return null;
            }
        }
        return digits.Length is >= 9 and <= 16 ? digits.ToString() : null;
    }

    /// <summary>The person whose phone (work, mobile, home or SIP with a number) is <paramref name="e164"/>, or null.</summary>
    public async Task<string?> FindPerson(string e164, CancellationToken ct)
    {
        var index = await Index(ct);
        return index.GetValueOrDefault(e164);
    }

    /// <summary>Forgets the index (after directory changes on this node).</summary>
    public void Invalidate() => _index = null;

    private async Task<Dictionary<string, string>> Index(CancellationToken ct)
    {
        if (_index is { } i && time.GetUtcNow() - _builtAt < MaxAge)
        {
            return i;
        }
        await _gate.WaitAsync(ct);
        try
        {
            if (_index is { } again && time.GetUtcNow() - _builtAt < MaxAge)
            {
                return again;
            }
            var index = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in await directory.SearchPeople(null, null, int.MaxValue, ct))
            {
                foreach (var c in p.ContactMethods.Where(c => c.Kind is ContactKind.WorkPhone or ContactKind.Mobile or ContactKind.HomePhone or ContactKind.Sip))
                {
                    if (ToE164(c.Address.StartsWith("sip:", StringComparison.OrdinalIgnoreCase) ? c.Address[4..].Split('@')[0] : c.Address) is { } n)
                    {
                        index.TryAdd(n, p.Id);
                    }
                }
            }
            _index = index;
            _builtAt = time.GetUtcNow();
            return index;
        }
        finally
        {
            _gate.Release();
        }
    }
}
