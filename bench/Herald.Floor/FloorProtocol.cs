using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Herald.Floor;

/// <summary>
/// The subset of Herald's live protocol (<c>herald.live.v1</c>) the PRES-2C generator uses: <c>watch</c>,
/// <c>status</c> and <c>ping</c>, answered as Herald answers them (<c>{"type":"result","id":…,"views":[…]}</c>,
/// <c>{"type":"result","id":…,"view":{…}}</c>, <c>{"type":"pong","id":…}</c>, errors as <c>{"type":"error",…}</c>).
/// Replies go through the connection's outbox, so one pump does every send.
/// </summary>
public static class FloorProtocol
{
    /// <summary>Handles one client message of <paramref name="c"/>.</summary>
    public static void Handle(FloorState state, FloorConnection c, ReadOnlySpan<byte> message)
    {
        string? op = null;
        byte[]? id = null;
        List<int>? users = null;
        var contacts = false;
        var unknownUser = false;
        string? availability = null;
        string? note = null;
        try
        {
            var r = new Utf8JsonReader(message);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject)
            {
                Reply(c, Error(null, "a request is a JSON object with an \"op\""));
                return;
            }
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("op"u8))
                {
                    r.Read();
                    op = r.TokenType == JsonTokenType.String ? r.GetString() : null;
                }
                else if (r.ValueTextEquals("id"u8))
                {
                    r.Read();
                    id = r.TokenType switch
                    {
                        JsonTokenType.Number => r.ValueSpan.ToArray(),
                        JsonTokenType.String => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(r.GetString())),
                        _ => null,
                    };
                }
                else if (r.ValueTextEquals("users"u8))
                {
                    r.Read();
                    if (r.TokenType == JsonTokenType.StartArray)
                    {
                        users = [];
                        while (r.Read() && r.TokenType == JsonTokenType.String)
                        {
                            var i = state.IndexOf(r.ValueSpan);
                            if (i < 0)
                            {
                                unknownUser = true;
                            }
                            else
                            {
                                users.Add(i);
                            }
                        }
                    }
                    else
                    {
                        r.Skip();
                    }
                }
                else if (r.ValueTextEquals("contacts"u8))
                {
                    r.Read();
                    contacts = r.TokenType == JsonTokenType.True;
                    r.Skip();
                }
                else if (r.ValueTextEquals("status"u8))
                {
                    r.Read();
                    if (r.TokenType != JsonTokenType.StartObject)
                    {
                        r.Skip();
                        continue;
                    }
                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        if (r.ValueTextEquals("availability"u8))
                        {
                            r.Read();
                            availability = r.TokenType == JsonTokenType.String ? r.GetString() : null;
                        }
                        else if (r.ValueTextEquals("note"u8))
                        {
                            r.Read();
                            note = r.TokenType == JsonTokenType.String ? r.GetString() : null;
                        }
                        else
                        {
                            r.Read();
                            r.Skip();
                        }
                    }
                }
                else
                {
                    r.Read();
                    r.Skip();
                }
            }
        }
        catch (JsonException ex)
        {
            Reply(c, Error(id, "the message is not a valid request: " + ex.Message));
            return;
        }
        if (op == "watch" && contacts && !unknownUser)
        {
            // Herald's {"op":"watch","contacts":true}: the caller's own contacts (and any users named as well).
            users ??= [];
            var mine = state.Contacts(c.User).Where(u => !users.Contains(u)).ToList();
            users.InsertRange(0, mine);
        }
        switch (op)
        {
            case "watch" when users is not null && !unknownUser:
                var views = new ArrayBufferWriter<byte>(512 * users.Count + 64);
                views.Write("{\"type\":\"result\",\"id\":"u8);
                views.Write(id ?? "null"u8.ToArray());
                views.Write(",\"views\":["u8);
                for (var k = 0; k < users.Count; k++)
                {
                    if (k > 0)
                    {
                        views.Write(","u8);
                    }
                    views.Write(state.Watch(c, users[k]));
                }
                views.Write("]}"u8);
                Reply(c, views.WrittenSpan.ToArray());
                break;
            case "watch":
                Reply(c, Error(id, unknownUser ? "Unknown people" : "Invalid request: users: is required"));
                break;
            case "status":
                var view = state.Publish(c.User, availability ?? "Available", note);
                var reply = new ArrayBufferWriter<byte>(view.Length + 64);
                reply.Write("{\"type\":\"result\",\"id\":"u8);
                reply.Write(id ?? "null"u8.ToArray());
                reply.Write(",\"view\":"u8);
                reply.Write(view);
                reply.Write("}"u8);
                Reply(c, reply.WrittenSpan.ToArray());
                break;
            case "ping":
                Reply(c, Encoding.UTF8.GetBytes($"{{\"type\":\"pong\",\"id\":{Encoding.UTF8.GetString(id ?? "null"u8.ToArray())}}}"));
                break;
            default:
                Reply(c, Error(id, $"Unknown op '{op}': the floor server knows watch, status and ping."));
                break;
        }
    }

    private static void Reply(FloorConnection c, byte[] bytes) => c.Outbox.Writer.TryWrite(new Outgoing(bytes, false));

    private static byte[] Error(byte[]? id, string detail)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "error");
            w.WritePropertyName("id");
            if (id is null)
            {
                w.WriteNullValue();
            }
            else
            {
                w.WriteRawValue(id, skipInputValidation: true);
            }
            w.WriteNumber("status", 400);
            w.WriteString("title", "Invalid request");
            w.WriteString("detail", detail);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
