using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Server.Outbound;
using Herald.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Herald.Server.Tests.Webhooks;

/// <summary>Server-side request forgery guard: Herald never connects to this host, link-local or multicast by default.</summary>
public sealed class OutboundPolicyTests
{
    private static OutboundGuard Guard(List<string>? deny = null, List<string>? allow = null) =>
        new(Options.Create(new OutboundOptions { DenyNetworks = deny, AllowNetworks = allow ?? [] }));

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.9.9.9", false)]
    [InlineData("::1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("fe80::1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("224.0.0.251", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("10.1.2.3", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("93.184.216.34", true)]
    [InlineData("2001:db8::1", true)]
    public void The_default_policy_refuses_this_host_link_local_and_multicast(string address, bool allowed) =>
        Assert.Equal(allowed, Guard().IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void An_allowed_network_overrides_a_denied_one_and_denials_can_be_widened()
    {
        var guard = Guard(deny: ["127.0.0.0/8", "10.0.0.0/8"], allow: ["127.0.0.1/32"]);
        Assert.True(guard.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.False(guard.IsAllowed(IPAddress.Parse("127.0.0.2")));
        Assert.False(guard.IsAllowed(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void A_malformed_network_fails_start_up_naming_the_value()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Guard(allow: ["10.0.0.0/99"]));
        Assert.Contains("10.0.0.0/99", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_name_that_resolves_to_a_denied_address_is_refused_when_connecting()
    {
        // Something listens on loopback, so only the guard can make the request fail.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new HttpClient(Guard().CreateHandler()) { Timeout = TimeSpan.FromSeconds(10) };
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri($"http://localhost:{port}/")));
        Assert.Contains("does not connect to", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]:9/hook")]
    [InlineData("http://localhost:9/hook")]
    public async Task A_webhook_to_a_denied_address_is_refused_with_problem_details(string url)
    {
        await using var server = new HeraldTestServer();
        await server.StartAsync();
        var tokens = await server.CreatePeople(HeraldTestServer.Person("anna"), HeraldTestServer.Person("bob"));
        using var anna = server.Client(tokens["anna"]);
        var r = await anna.PostAsJsonAsync("/api/v1/webhooks", new { url, userIds = new[] { "bob" } });
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors").GetProperty("url");
        Assert.Contains("Herald:Outbound", errors[0].GetString(), StringComparison.Ordinal);
    }
}
