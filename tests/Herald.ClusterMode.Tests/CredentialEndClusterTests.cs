using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Xunit.Abstractions;

namespace Herald.ClusterMode.Tests;

/// <summary>
/// Deleting an account through node 1 closes that person's live connection on node 2 at once — through the cluster's
/// invalidation message, not the periodic re-check (turned off here) — while another person's connection on node 2
/// stays open.
/// </summary>
public sealed class CredentialEndClusterTests(ITestOutputHelper output)
{
    private readonly ClusterDiagnostics _cluster = new(output);

    [RedisFact]
    public async Task An_account_deleted_through_one_node_closes_its_live_connections_on_another_node_at_once()
    {
        await using var redis = await RedisInstance.StartAsync();
        var clusterId = "c" + Guid.NewGuid().ToString("N")[..12];
        string[] noSweep = ["--Herald:Auth:LiveRecheckInterval=00:00:00"];
        await using var n1 = _cluster.Node("n1", redis, clusterId, noSweep);
        await using var n2 = _cluster.Node("n2", redis, clusterId, noSweep);
        await _cluster.Run(async () =>
        {
            await Task.WhenAll(n1.StartAsync(), n2.StartAsync());

            using var admin = n1.Client(await n1.Login("admin", ServerProcess.AdminPassword));
            var created = await admin.PostAsJsonAsync("api/v1/admin/people", new[] { "ann", "ben" }.Select(id => new
            {
                id, displayName = id.ToUpperInvariant(), email = id + "@example.com", password = $"pw-{id}-123",
            }).ToArray());
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());

            await using var ann = await Socket.Open(n2, await n2.Login("ann", "pw-ann-123"));
            await using var ben = await Socket.Open(n2, await n2.Login("ben", "pw-ben-123"));

            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("api/v1/admin/people/ann")).StatusCode);
            var closed = await ann.Closed.WaitAsync(TimeSpan.FromSeconds(10)); // far below any re-check interval: the message did it
            Assert.Equal(4403, (int)closed);
            Assert.Equal("account deleted", ann.Ws.CloseStatusDescription);

            // ben's connection on node 2 still answers.
            await ben.Send("{\"op\":\"ping\",\"id\":\"p1\"}");
            await Eventually.True(() => ben.Messages.Any(m => m.Contains("\"pong\"", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "ben's connection answers");
            Assert.False(ben.Closed.IsCompleted);
        });
    }

    /// <summary>A bare client of the live WebSocket that records text messages and the close status.</summary>
    private sealed class Socket : IAsyncDisposable
    {
        private readonly TaskCompletionSource<WebSocketCloseStatus> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _cts = new();
        private Task _loop = Task.CompletedTask;

        private Socket(ClientWebSocket ws) => Ws = ws;

        public ClientWebSocket Ws { get; }

        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public Task<WebSocketCloseStatus> Closed => _closed.Task;

        public static async Task<Socket> Open(ServerProcess node, string token)
        {
            var ws = new ClientWebSocket();
            ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await ws.ConnectAsync(new UriBuilder(node.BaseAddress) { Scheme = "ws", Path = "/api/v1/live" }.Uri, timeout.Token);
            var s = new Socket(ws);
            s._loop = Task.Run(s.Read);
            return s;
        }

        public async Task Send(string text)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
        }

        private async Task Read()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var r = await Ws.ReceiveAsync(buffer, _cts.Token);
                    if (r.MessageType == WebSocketMessageType.Close)
                    {
                        _closed.TrySetResult(Ws.CloseStatus ?? WebSocketCloseStatus.Empty);
                        return;
                    }
                    Messages.Enqueue(Encoding.UTF8.GetString(buffer, 0, r.Count));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
                _closed.TrySetException(ex);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Ws.State == WebSocketState.Open)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await Ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
                catch (WebSocketException)
                {
                }
            }
            await _cts.CancelAsync();
            await _loop;
            Ws.Dispose();
            _cts.Dispose();
        }
    }
}
