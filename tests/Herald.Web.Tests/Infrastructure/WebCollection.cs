namespace Herald.Web.Tests.Infrastructure;

/// <summary>One browser and one demo server shared by the browser tests, which run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<Browsers>, ICollectionFixture<DemoSite>
{
    public const string Name = "web";
}
