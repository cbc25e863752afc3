using System.Net;
using System.Net.Http.Json;
using Herald.Server.Tests.Infrastructure;
using Herald.Xmpp.Tests.Infrastructure;

namespace Herald.Xmpp.Tests;

/// <summary>
/// An XMPP session ends when the account it authenticated is deleted or its password changed: <c>&lt;not-authorized/&gt;</c>
/// with the reason, then the stream closes (RFC 6120 4.9.3.12). Other sessions stay and keep receiving presence.
/// </summary>
public sealed class CredentialEndTests : IAsyncLifetime
{
    private readonly XmppServer _xmpp = new();
    private Dictionary<string, string> _tokens = null!;

    public async Task InitializeAsync()
    {
        await _xmpp.StartAsync();
        _tokens = await _xmpp.Server.CreatePeople(HeraldTestServer.Person("ann", team: "t"), HeraldTestServer.Person("ben", team: "t"),
            HeraldTestServer.Person("cid", team: "t"), HeraldTestServer.Person("dan", team: "t"));
        foreach (var who in new[] { "ben", "cid", "dan" })
        {
            using var c = _xmpp.Server.Client(_tokens[who]);
            (await c.PutAsync("/api/v1/me/contacts/ann", null)).EnsureSuccessStatusCode();
        }
    }

    public async Task DisposeAsync() => await _xmpp.DisposeAsync();

    private static async Task<RawXmpp> Online(int port, string user)
    {
        var raw = await RawXmpp.Connect(port);
        await raw.Login(user, $"pw-{user}-123");
        await raw.Send("<presence/>");
        await raw.ReadUntil("from=\"ann@localhost"); // ann's current presence: the session is live
        raw.ClearReceived();
        return raw;
    }

    private async Task<RawXmpp> AnnOnline()
    {
        var ann = await RawXmpp.Connect(_xmpp.Port);
        await ann.Login("ann", "pw-ann-123");
        await ann.Send("<presence/>");
        return ann;
    }

    private static async Task<string> StreamError(RawXmpp raw)
    {
        var received = await raw.ReadUntil("</stream:stream>");
        Assert.True(await raw.ClosedByServer(TimeSpan.FromSeconds(10)), "the server closes the connection after the stream error");
        var start = received.IndexOf("<stream:error>", StringComparison.Ordinal);
        Assert.True(start >= 0, received);
        return received[start..];
    }

    [Fact]
    public async Task Deleting_the_account_or_changing_the_password_ends_the_session_with_not_authorized_and_others_keep_receiving()
    {
        await using var ann = await AnnOnline();
        await using var ben = await Online(_xmpp.Port, "ben");
        await using var cid = await Online(_xmpp.Port, "cid");
        await using var dan = await Online(_xmpp.Port, "dan");
        using var admin = _xmpp.Server.Client(await _xmpp.Server.Login("admin", HeraldTestServer.AdminPassword));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/admin/people/ben")).StatusCode);
        var error = await StreamError(ben);
        Assert.Contains("<not-authorized xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"", error, StringComparison.Ordinal);
        Assert.Contains("account deleted", error, StringComparison.Ordinal);

        // A new password (same profile) ends the session that authenticated with the old one.
        var put = await admin.PutAsJsonAsync("/api/v1/admin/people/cid",
            new { id = "cid", displayName = "Cid", email = "cid@example.com", team = "t", password = "a-new-password-1" });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        error = await StreamError(cid);
        Assert.Contains("<not-authorized xmlns=\"urn:ietf:params:xml:ns:xmpp-streams\"", error, StringComparison.Ordinal);
        Assert.Contains("password changed", error, StringComparison.Ordinal);

        // A profile change without a password keeps dan's session; he still receives ann's presence.
        var keep = await admin.PutAsJsonAsync("/api/v1/admin/people/dan", new { id = "dan", displayName = "Dan D.", email = "dan@example.com", team = "t" });
        Assert.True(keep.IsSuccessStatusCode, await keep.Content.ReadAsStringAsync());
        await ann.Send("<presence><show>dnd</show><status>after</status></presence>");
        var seen = await dan.ReadUntil("</presence>");
        Assert.Contains("from=\"ann@localhost", seen, StringComparison.Ordinal);
        Assert.Contains("<show>dnd</show>", seen, StringComparison.Ordinal);
        await dan.Send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
        Assert.Contains("type=\"result\"", await dan.ReadUntil("id=\"p1\""), StringComparison.Ordinal);

        // The new password logs in again.
        await using var again = await RawXmpp.Connect(_xmpp.Port);
        await again.Login("cid", "a-new-password-1");
    }

    [Fact]
    public async Task An_account_deleted_by_another_node_ends_the_session_at_the_next_recheck()
    {
        await using var ann = await AnnOnline();
        await using var ben = await Online(_xmpp.Port, "ben");
        Assert.True(await _xmpp.Server.Services.GetRequiredService<Herald.Cluster.Directory.IAccountStore>().DeleteAccount("ben"));
        _xmpp.Server.Time.Advance(TimeSpan.FromSeconds(30)); // Herald:Auth:LiveRecheckInterval default
        Assert.Contains("account deleted", await StreamError(ben), StringComparison.Ordinal);
    }
}
