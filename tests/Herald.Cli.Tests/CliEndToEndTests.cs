using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Herald.Cli.Tests;

public sealed class CliEndToEndTests
{
    private const string AdminPassword = ServerProcess.AdminPassword;

    [Fact]
    public async Task Login_watch_status_who_and_errors_work_against_the_real_server()
    {
        var root = Path.Combine(Path.GetTempPath(), "herald-cli-" + Guid.NewGuid().ToString("N"));
        var data = Path.Combine(root, "data");
        var bobDir = Path.Combine(root, "bob");
        var annaDir = Path.Combine(root, "anna");
        var emptyDir = Path.Combine(root, "nobody");
        Directory.CreateDirectory(data);
        ServerProcess? server = null;
        Process? watch = null;
        try
        {
            server = new ServerProcess(data); // a free HTTP port, XMPP off
            await server.StartAsync(TimeSpan.FromSeconds(60));
            var url = server.BaseAddress.ToString().TrimEnd('/');
            using var http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };

            var login = await http.PostAsJsonAsync("/api/v1/auth/token", new { username = "admin", password = AdminPassword });
            login.EnsureSuccessStatusCode();
            var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var people = await http.PostAsJsonAsync("/api/v1/admin/people", new object[]
            {
                new { id = "anna", displayName = "Anna", email = "anna@example.com", password = "anna-password-1" },
                new { id = "bob", displayName = "Bob", email = "bob@example.com", password = "bob-password-1" },
            });
            Assert.Equal(HttpStatusCode.OK, people.StatusCode);

            // Anna makes Bob a trusted watcher, so he sees her availability at any hour (colleagues see only
            // "OffWork" outside work hours): the test does not depend on the time of day.
            using (var annaHttp = new HttpClient { BaseAddress = new Uri(url) })
            {
                var annaLogin = await annaHttp.PostAsJsonAsync("/api/v1/auth/token", new { username = "anna", password = "anna-password-1" });
                annaLogin.EnsureSuccessStatusCode();
                annaHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                    (await annaLogin.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString());
                (await annaHttp.PutAsJsonAsync("/api/v1/me/privacy", new { watchers = new { bob = new { tier = "Trusted" } } })).EnsureSuccessStatusCode();
            }

            var r = await Herald(bobDir, "login", "--server", url, "--user", "bob", "--password", "bob-password-1");
            Assert.True(r.Code == 0, r.Err);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(bobDir, "credentials.json")));
            }

            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            watch = Start("dotnet", [HeraldDll, "watch", "anna", "--count", "1", "--timeout", "30s", "--json"], root, bobDir,
                out var watchOut, out var watchErr, line =>
                {
                    if (line.StartsWith("watching", StringComparison.Ordinal))
                    {
                        ready.TrySetResult();
                    }
                });
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));

            r = await Herald(annaDir, "login", "--server", url, "--user", "anna", "--password", "anna-password-1");
            Assert.True(r.Code == 0, r.Err);
            r = await Herald(annaDir, "status", "busy", "--note", "in a call", "--for", "30m");
            Assert.True(r.Code == 0, r.Err);

            await watch.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(40));
            watch.WaitForExit();
            Assert.True(watch.ExitCode == 0, watchErr.ToString());
            var line = watchOut.ToString().Trim().Split('\n')[0];
            using var doc = JsonDocument.Parse(line);
            Assert.Equal("anna", doc.RootElement.GetProperty("userId").GetString());
            Assert.Equal("Busy", doc.RootElement.GetProperty("availability").GetString());
            Assert.Equal("in a call", doc.RootElement.GetProperty("note").GetString());

            r = await Herald(annaDir, "status", "sleepy");
            Assert.Equal(2, r.Code);
            Assert.Contains("Valid values", r.Err);
            Assert.Contains("DoNotDisturb", r.Err);

            r = await Herald(emptyDir, "who");
            Assert.Equal(3, r.Code);
            Assert.Contains("Not logged in", r.Err);
            Assert.DoesNotContain("   at ", r.Err);

            r = await Herald(bobDir, "who", "--json");
            Assert.True(r.Code == 0, r.Err);
            Assert.Contains("anna", r.Out);

            // Ask the available: Anna is available again; Bob (whom she trusts) invites her.
            r = await Herald(annaDir, "status", "available");
            Assert.True(r.Code == 0, r.Err);
            r = await Herald(bobDir, "huddle", "--users", "anna", "--topic", "quick sync", "--for", "10m", "--json");
            Assert.True(r.Code == 0, r.Err);
            using (var huddle = JsonDocument.Parse(r.Out))
            {
                Assert.Equal("anna", huddle.RootElement.GetProperty("invited")[0].GetProperty("userId").GetString());
            }
            r = await Herald(bobDir, "huddle", "--topic", "no one named");
            Assert.Equal(2, r.Code);
            Assert.Contains("--team or --users", r.Err);

            // Admin import from a CSV file; a person cannot import.
            var adminDir = Path.Combine(root, "admin-config");
            r = await Herald(adminDir, "login", "--server", url, "--user", "admin", "--password", AdminPassword);
            Assert.True(r.Code == 0, r.Err);
            var csv = Path.Combine(root, "people.csv");
            await File.WriteAllTextAsync(csv, "id,displayName,email,team\ncarl,Carl C,carl@example.com,ops\n");
            r = await Herald(adminDir, "admin", "import", csv, "--json");
            Assert.True(r.Code == 0, r.Err);
            using (var imported = JsonDocument.Parse(r.Out))
            {
                Assert.Equal(1, imported.RootElement.GetProperty("created").GetInt32());
            }
            r = await Herald(bobDir, "admin", "import", csv);
            Assert.Equal(3, r.Code);
            r = await Herald(adminDir, "admin", "import", Path.Combine(root, "missing.csv"));
            Assert.Equal(2, r.Code);
        }
        finally
        {
            Kill(watch);
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            try
            {
                Directory.Delete(root, true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static string HeraldDll => Path.Combine(AppContext.BaseDirectory, "herald.dll");

    private static async Task<(int Code, string Out, string Err)> Herald(string configDir, params string[] args)
    {
        using var p = Start("dotnet", [HeraldDll, .. args], Path.GetTempPath(), configDir, out var o, out var e);
        try
        {
            await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            p.WaitForExit();
            return (p.ExitCode, o.ToString(), e.ToString());
        }
        finally
        {
            Kill(p);
        }
    }

    private static Process Start(string file, string[] args, string workDir, string? configDir, out StringBuilder stdout,
        out StringBuilder stderr, Action<string>? onErrLine = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (configDir is not null)
        {
            psi.Environment["HERALD_CONFIG_DIR"] = configDir;
        }
        psi.Environment.Remove("HERALD_PASSWORD");
        var o = new StringBuilder();
        var e = new StringBuilder();
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, d) =>
        {
            if (d.Data is not null)
            {
                lock (o)
                {
                    o.AppendLine(d.Data);
                }
            }
        };
        p.ErrorDataReceived += (_, d) =>
        {
            if (d.Data is not null)
            {
                lock (e)
                {
                    e.AppendLine(d.Data);
                }
                onErrLine?.Invoke(d.Data);
            }
        };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        stdout = o;
        stderr = e;
        return p;
    }

    private static void Kill(Process? p)
    {
        try
        {
            if (p is { HasExited: false })
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }
}
