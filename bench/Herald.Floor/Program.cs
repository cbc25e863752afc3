using System.Runtime.InteropServices;
using Herald.Floor;

if (args is ["--help"] or ["-h"])
{
    Console.WriteLine(FloorHost.Usage);
    return 0;
}
if (!FloorHost.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(FloorHost.Usage);
    return 2;
}
using var stop = new CancellationTokenSource();
// Our own handlers: the Kestrel host's console lifetime also takes SIGTERM/SIGINT, but only stops the host.
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
await using var server = await FloorHost.Start(options, stop.Token);
Console.Error.WriteLine($"herald-floor {options.Transport} on {server.Url} ({options.Users} users, roster {options.Roster})");
try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    // stopped
}
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
