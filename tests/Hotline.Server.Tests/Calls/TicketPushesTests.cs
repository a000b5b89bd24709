using System.Collections.Concurrent;
using System.Reflection;
using Hotline.Server.Calls;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hotline.Server.Tests.Calls;

/// <summary>
/// <see cref="TicketPushes"/> on a hub context whose group send blocks (a console whose transport buffer is full): the
/// projection's <see cref="TicketPushes.Enqueue"/> never waits, the oldest queued pushes are dropped and counted once the
/// queue is full, and what is kept goes out in order once the send moves again.
/// </summary>
public sealed class TicketPushesTests
{
    [Fact]
    public async Task Enqueue_never_waits_on_a_blocked_group_send_drops_the_oldest_when_full_and_sends_the_rest_in_order()
    {
        var hub = HubRecorder.Create();
        var pushes = new TicketPushes(hub.Context, NullLogger<TicketPushes>.Instance);
        await pushes.StartAsync(CancellationToken.None);
        try
        {
            // The first push is taken by the sender and blocks there: the group send does not return.
            pushes.Enqueue(View(0), registeredBy: null);
            Assert.True(await hub.FirstSendStarted.Task.WaitAsync(TimeSpan.FromSeconds(30)) == 0, "the sender did not take the first push");

            // The projection goes on: 5 more than the queue holds, each Enqueue returns at once (this thread would hang otherwise).
            var extra = 5;
            for (var i = 1; i <= TicketPushes.Capacity + extra; i++) pushes.Enqueue(View(i), registeredBy: "agent1");
            Assert.Equal(extra, pushes.Dropped);

            hub.Release();
            var last = TicketPushes.Capacity + extra;
            await hub.WaitForAsync(v => v == last, TimeSpan.FromSeconds(60));

            // Push 0 (in flight), then pushes extra+1 … last, each to the ticket's group and then to its registrant's group.
            var sent = hub.Sent.ToArray();
            Assert.Equal(("ticket:" + Id(0), 0), sent[0]);
            var expected = new List<(string, int)>();
            for (var i = extra + 1; i <= last; i++)
            {
                expected.Add(("ticket:" + Id(i), i));
                expected.Add((AgentHub.GroupOf("agent1"), i));
            }
            Assert.Equal(expected, sent[1..]);
        }
        finally
        {
            hub.Release();
            await pushes.StopAsync(CancellationToken.None);
            pushes.Dispose();
        }
    }

    private static Guid Id(int n) => new(n, 0, 0, new byte[8]);

    private static TicketChangedView View(int n) => new(Id(n), "20261122-" + n.ToString("D6", System.Globalization.CultureInfo.InvariantCulture), "Registered", "已受理", n);

    /// <summary>A hub context whose group clients record each TicketChanged; sends block until <see cref="Release"/>.</summary>
    private sealed class HubRecorder
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<(string Group, int Version)> Sent { get; } = new();
        public TaskCompletionSource<int> FirstSendStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public IHubContext<AgentHub, IAgentClient> Context { get; private set; } = null!;

        public static HubRecorder Create()
        {
            var recorder = new HubRecorder();
            var clients = DispatchProxy.Create<IHubClients<IAgentClient>, ClientsProxy>();
            ((ClientsProxy)(object)clients).Recorder = recorder;
            var context = DispatchProxy.Create<IHubContext<AgentHub, IAgentClient>, ContextProxy>();
            ((ContextProxy)(object)context).Clients = clients;
            recorder.Context = context;
            return recorder;
        }

        public void Release() => _gate.TrySetResult();

        public async Task WaitForAsync(Func<int, bool> version, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (!Sent.Any(s => version(s.Version)))
            {
                Assert.True(DateTime.UtcNow < deadline, $"not sent within {timeout}: {Sent.Count} sends so far");
                await Task.Delay(20);
            }
        }

        public async Task SendAsync(string group, TicketChangedView view)
        {
            FirstSendStarted.TrySetResult((int)view.Version);
            await _gate.Task;
            Sent.Enqueue((group, (int)view.Version));
        }
    }

    public class ContextProxy : DispatchProxy
    {
        public object? Clients { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == "get_Clients" ? Clients : throw new NotSupportedException(targetMethod?.Name);
    }

    public class ClientsProxy : DispatchProxy
    {
        internal object? Recorder { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod?.Name != "Group") throw new NotSupportedException(targetMethod?.Name);
            var client = DispatchProxy.Create<IAgentClient, GroupClientProxy>();
            var proxy = (GroupClientProxy)(object)client;
            proxy.Recorder = Recorder;
            proxy.Group = (string)args![0]!;
            return client;
        }
    }

    public class GroupClientProxy : DispatchProxy
    {
        internal object? Recorder { get; set; }
        internal string Group { get; set; } = "";

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IAgentClient.TicketChanged)
                ? ((HubRecorder)Recorder!).SendAsync(Group, (TicketChangedView)args![0]!)
                : throw new NotSupportedException(targetMethod?.Name);
    }
}
