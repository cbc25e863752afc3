using Orleans.Runtime;

namespace Herald.Cluster.Presence;

/// <summary>
/// Grain references on hot paths without Orleans' per-call type resolution. <c>IGrainFactory.GetGrain&lt;T&gt;(string)</c>
/// resolves the interface's grain interface type through its attributes on every call (reflection, measured at ≈ 7 % of
/// the server's CPU at 15,000 deliveries/s); here the grain type and interface type are resolved once per interface and
/// each reference is made from them directly. The reference is the same one <c>GetGrain</c> would return.
/// </summary>
public static class GrainReferences
{
    /// <summary>The person grain of <paramref name="userId"/>.</summary>
    public static IPersonGrain Person(this IGrainFactory grains, string userId) => Resolved<IPersonGrain>.Get(grains, userId);

    private static class Resolved<T>
        where T : IGrainWithStringKey
    {
        private static Ids? _ids;

        public static T Get(IGrainFactory grains, string key)
        {
            ArgumentNullException.ThrowIfNull(grains);
            ArgumentException.ThrowIfNullOrWhiteSpace(key);
            if (_ids is { } ids && ids.Factory == grains.GetType())
            {
                return (T)grains.GetGrain(GrainId.Create(ids.Type, IdSpan.Create(key)), ids.Interface);
            }
            var first = grains.GetGrain<T>(key);
            if (first is GrainReference reference)
            {
                _ids = new Ids(grains.GetType(), reference.GrainId.Type, reference.InterfaceType);
            }
            return first;
        }
    }

    /// <summary>Resolved ids, used only with the factory implementation they came from (a test's fake factory resolves its own way).</summary>
    private sealed record Ids(Type Factory, GrainType Type, GrainInterfaceType Interface);
}
