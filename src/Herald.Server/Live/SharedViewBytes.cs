using System.Runtime.CompilerServices;
using Herald.Core.Privacy;
using MessagePack;
using MessagePack.Formatters;

namespace Herald.Server.Live;

/// <summary>
/// Serializes each <see cref="PresenceView"/> instance once for the MessagePack hub protocol and shares the bytes. The
/// fan-out hands the same view instance to every watcher with the same disclosure (one view per distinct disclosure
/// key and change), so with R watchers a change is encoded once per key instead of once per connection. The bytes are
/// exactly what the protocol's own resolver writes (they are produced by it); they live as long as the view instance
/// (a <see cref="ConditionalWeakTable{TKey,TValue}"/> keyed by reference), never longer.
/// </summary>
public static class SharedViewBytes
{
    /// <summary>The hub protocol's options with views written through the shared-bytes formatter.</summary>
    public static MessagePackSerializerOptions Options(MessagePackSerializerOptions protocolOptions)
    {
        ArgumentNullException.ThrowIfNull(protocolOptions);
        return protocolOptions.WithResolver(new Resolver(protocolOptions));
    }

    /// <summary>Views written once; everything else as the inner resolver writes it.</summary>
    private sealed class Resolver(MessagePackSerializerOptions inner) : IFormatterResolver
    {
        private readonly ViewFormatter _views = new(inner);

        public IMessagePackFormatter<T>? GetFormatter<T>() =>
            typeof(T) == typeof(PresenceView) ? (IMessagePackFormatter<T>)(object)_views : inner.Resolver.GetFormatter<T>();
    }

    private sealed class ViewFormatter(MessagePackSerializerOptions inner) : IMessagePackFormatter<PresenceView?>
    {
        private static readonly ConditionalWeakTable<PresenceView, byte[]> Encoded = new();

        public void Serialize(ref MessagePackWriter writer, PresenceView? value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }
            if (!Encoded.TryGetValue(value, out var bytes))
            {
                bytes = MessagePackSerializer.Serialize(value, inner);
                Encoded.TryAdd(value, bytes); // a concurrent first use may encode twice; both encodings are identical
            }
            writer.WriteRaw(bytes);
        }

        public PresenceView? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
            inner.Resolver.GetFormatter<PresenceView>()!.Deserialize(ref reader, inner);
    }
}
