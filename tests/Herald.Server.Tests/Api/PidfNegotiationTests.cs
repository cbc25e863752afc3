using System.Net;
using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

public sealed class PidfNegotiationTests() : ServerWithPeople(
    [], HeraldTestServer.Person("anna", team: "ops"), HeraldTestServer.Person("bob", team: "ops"))
{
    private async Task<HttpResponseMessage> Get(string path, string? accept)
    {
        using var c = Server.Client(Tokens["bob"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }
        return await c.SendAsync(request);
    }

    [Theory]
    [InlineData(null, "application/json")]
    [InlineData("application/json", "application/json")]
    [InlineData("*/*", "application/json")]
    [InlineData("application/pidf+xml", "application/pidf+xml")]
    [InlineData("application/pidf+xml, */*;q=0.1", "application/pidf+xml")]
    [InlineData("application/json, application/pidf+xml;q=0.5", "application/json")]
    [InlineData("application/pidf+xml;q=0.9, application/json;q=0.2", "application/pidf+xml")]
    public async Task The_accept_header_chooses_json_or_pidf(string? accept, string expected)
    {
        using var anna = Server.Client(Tokens["anna"]);
        (await anna.PutAsJsonAsync("/api/v1/me/status", new { availability = "DoNotDisturb", note = "release <day> & more" })).EnsureSuccessStatusCode();
        using var r = await Get("/api/v1/presence/anna", accept);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(expected, r.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept", r.Headers.Vary);
        var body = await r.Content.ReadAsStringAsync();
        if (expected == "application/pidf+xml")
        {
            var doc = System.Xml.Linq.XDocument.Parse(body);
            Assert.Equal("pres:anna@localhost", doc.Root!.Attribute("entity")!.Value);
            Assert.Contains("release &lt;day&gt; &amp; more", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unknown_person_is_a_problem_even_when_pidf_is_asked_for()
    {
        using var r = await Get("/api/v1/presence/nobody", "application/pidf+xml");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }
}
