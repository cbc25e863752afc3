using System.Text.Json;
using Herald.Cluster.Huddles;
using Herald.Cluster.Privacy;
using Herald.Core.Privacy;
using Microsoft.Extensions.Logging;

namespace Herald.Cluster.Presence;

/// <summary>Roster support for channels that keep a contact list in sync (the XMPP gateway): pre-approval and change events.</summary>
public sealed partial class PersonGrain
{
    /// <summary>The user event that tells a person's live connections that one roster entry changed: <c>{"contactId": "..."}</c>.</summary>
    public const string RosterChangedEvent = "roster.changed";

    /// <inheritdoc />
    public async Task<bool> PreApprove(string watcherId)
    {
        ArgumentException.ThrowIfNullOrEmpty(watcherId);
        if (watcherId == Id || _state.State.Watchers.GetValueOrDefault(watcherId)?.Status == SubscriptionStatus.Approved)
        {
            return false;
        }
        var now = _time.GetUtcNow();
        var existing = _state.State.Watchers.GetValueOrDefault(watcherId);
        _state.State.Watchers[watcherId] = new WatcherRecord(SubscriptionStatus.Approved, existing?.Since ?? now, now);
        await WriteState();
        _audit.Append(new AuditEntry(now, Id, watcherId, "subscription", "xmpp", "approved", "approved in advance by the person"));
        await PrivacyChanged();
        RosterChanged(Id, watcherId);
        RosterChanged(watcherId, Id);
        return true;
    }

    /// <summary>
    /// Tells the live connections of <paramref name="ownerId"/> (any silo, any channel) that their roster entry for
    /// <paramref name="contactId"/> changed. Fire and forget: a failure never fails the change itself.
    /// </summary>
    private void RosterChanged(string ownerId, string contactId)
    {
        var e = new UserEvent(ownerId, RosterChangedEvent, JsonSerializer.Serialize(new { contactId }));
        _ = SendUserEvent(e);
    }

    private async Task SendUserEvent(UserEvent e)
    {
        try
        {
            var routes = await GrainFactory.GetGrain<IUserLocatorGrain>(UserLocatorGrain.Key).Locate([e.UserId]);
            foreach (var route in routes)
            {
                _ = route.Observer.OnUserEvent(e);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRosterEventFailed(ex, e.UserId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send a roster event to {PersonId}")]
    private partial void LogRosterEventFailed(Exception ex, string personId);
}
