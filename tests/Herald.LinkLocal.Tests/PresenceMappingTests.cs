using System.Net;
using System.Text;
using Herald.Core.Model;
using Herald.LinkLocal.Dns;
using Microsoft.Extensions.Time.Testing;

namespace Herald.LinkLocal.Tests;

public sealed class PresenceMappingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string> Txt(LocalStatus s, bool shareNote, DateTimeOffset now) =>
        TxtMapping.Parse(TxtMapping.ToTxt(LinkDisclosure.View("alice@host", s, LinkDisclosure.Rules(shareNote), now), "alice", 5298));

    [Fact]
    public void By_default_the_link_learns_availability_only()
    {
        var txt = Txt(new LocalStatus(Availability.DoNotDisturb, "seeing the doctor", T0.AddHours(1), T0), false, T0);
        Assert.Equal(new Dictionary<string, string>
        {
            ["txtvers"] = "1", ["port.p2pj"] = "5298", ["nick"] = "alice", ["status"] = "dnd", ["herald.avail"] = "DoNotDisturb",
        }, txt);
    }

    [Fact]
    public void With_the_users_rule_the_note_and_the_end_of_the_status_are_announced()
    {
        var txt = Txt(new LocalStatus(Availability.Busy, "in a meeting", T0.AddMinutes(30), T0), true, T0);
        Assert.Equal("dnd", txt["status"]);
        Assert.Equal("Busy", txt["herald.avail"]);
        Assert.Equal("in a meeting", txt["msg"]);
        Assert.Equal("2026-11-27T10:30:00Z", txt["herald.back"]);
    }

    [Theory]
    [InlineData(Availability.Available, "avail")]
    [InlineData(Availability.Away, "away")]
    [InlineData(Availability.BeRightBack, "away")]
    [InlineData(Availability.OffWork, "away")]
    [InlineData(Availability.Busy, "dnd")]
    [InlineData(Availability.DoNotDisturb, "dnd")]
    public void Herald_availability_maps_to_the_XEP_0174_status(Availability a, string status)
    {
        Assert.Equal(status, Txt(new LocalStatus(a, null, null, T0), false, T0)["status"]);
    }

    [Fact]
    public void A_status_that_ended_is_announced_as_available_without_its_note()
    {
        var s = new LocalStatus(Availability.DoNotDisturb, "focus", T0.AddMinutes(30), T0);
        var txt = Txt(s, true, T0.AddMinutes(31));
        Assert.Equal("avail", txt["status"]);
        Assert.False(txt.ContainsKey("msg"));
    }

    [Fact]
    public void Long_notes_are_cut_to_fit_one_TXT_string_at_a_character_boundary()
    {
        var pair = TxtMapping.Pair("msg", new string('é', 200));
        Assert.True(pair.Length <= 255);
        Assert.EndsWith("é", Encoding.UTF8.GetString(pair), StringComparison.Ordinal);
    }

    [Fact]
    public void A_foreign_XEP_0174_record_is_read_into_a_peer()
    {
        var txt = new TxtData(new[] { "txtvers=1", "status=away", "msg=lunch", "1st=Carol", "last=Smith", "nick=carol", "port.p2pj=5298",
            "STATUS=dnd", "flag", "=bad" }.Select(Encoding.UTF8.GetBytes).ToList());
        var peer = TxtMapping.PeerOf("carol@zc", TxtMapping.Parse(txt), new SrvData(0, 0, 5299, "carol.local"), IPAddress.Parse("169.254.3.4"));
        Assert.Equal(new LinkPeer("carol@zc", "carol", "Carol", "Smith", Availability.Away, "away", "lunch", null, "carol.local", 5299,
            IPAddress.Parse("169.254.3.4"), false), peer);
    }

    [Fact]
    public void A_record_without_status_is_available_as_XEP_0174_readers_assume_and_junk_herald_fields_are_ignored()
    {
        var txt = TxtMapping.Parse(new TxtData(new[] { "txtvers=1", "herald.avail=42", "herald.back=soon" }.Select(Encoding.UTF8.GetBytes).ToList()));
        var peer = TxtMapping.PeerOf("x@y", txt, null, null);
        Assert.Equal(Availability.Available, peer.Availability);
        Assert.Null(peer.Back);
        Assert.False(peer.IsHerald);
        Assert.Equal(Availability.Unknown, TxtMapping.AvailabilityOf("chatty"));
    }

    [Theory]
    [InlineData(Availability.Busy)]
    [InlineData(Availability.DoNotDisturb)]
    [InlineData(Availability.Away)]
    [InlineData(Availability.OffWork)]
    public void Busy_answer_refuses_at_once_with_availability_and_the_shared_note_and_back_time(Availability a)
    {
        var time = new FakeTimeProvider(T0);
        var answer = BusyAnswer.Decide("bob@host", new LocalStatus(a, "in a meeting", T0.AddMinutes(45), T0), LinkDisclosure.Rules(true), time);
        Assert.False(answer.Deliver);
        Assert.Equal(a, answer.Availability);
        Assert.Equal("in a meeting", answer.Note);
        Assert.Equal(T0.AddMinutes(45), answer.Back);
        Assert.Contains("in a meeting", answer.Text, StringComparison.Ordinal);
        Assert.Contains("10:45", answer.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Availability.Available)]
    [InlineData(Availability.BeRightBack)]
    public void Busy_answer_delivers_to_a_reachable_peer(Availability a)
    {
        var answer = BusyAnswer.Decide("bob@host", new LocalStatus(a, "hi", null, T0), LinkDisclosure.Rules(true), new FakeTimeProvider(T0));
        Assert.True(answer.Deliver);
        Assert.Null(answer.Text);
    }

    [Fact]
    public void Without_the_users_rule_the_busy_answer_carries_availability_but_neither_note_nor_back_time()
    {
        var answer = BusyAnswer.Decide("bob@host", new LocalStatus(Availability.DoNotDisturb, "therapy", T0.AddHours(1), T0),
            LinkDisclosure.Rules(false), new FakeTimeProvider(T0));
        Assert.False(answer.Deliver);
        Assert.Equal(Availability.DoNotDisturb, answer.Availability);
        Assert.Null(answer.Note);
        Assert.Null(answer.Back);
        Assert.DoesNotContain("therapy", answer.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void When_the_status_runs_out_the_busy_answer_turns_into_delivery()
    {
        var time = new FakeTimeProvider(T0);
        var status = new LocalStatus(Availability.DoNotDisturb, "focus", T0.AddMinutes(30), T0);
        var rules = LinkDisclosure.Rules(true);
        Assert.False(BusyAnswer.Decide("bob@host", status, rules, time).Deliver);
        time.Advance(TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(59));
        Assert.False(BusyAnswer.Decide("bob@host", status, rules, time).Deliver);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(BusyAnswer.Decide("bob@host", status, rules, time).Deliver);
    }
}
