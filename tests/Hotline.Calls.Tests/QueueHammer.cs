using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit;

namespace Hotline.Calls.Tests;

/// <summary>
/// Drives one queue through several "nodes" (queue instances sharing the same state) concurrently: enqueues (with
/// duplicates) from every node, dispatch / accept / end / ready loops, rejects, log-outs, callers hanging up while
/// ringing or waiting, unanswered offers left to expire. Then checks that every call was ended or abandoned exactly
/// once, that no call was ever offered to two agents at once, and that the counts reconcile.
/// </summary>
/// <remarks>
/// Bookkeeping: <c>_open</c> holds every outstanding offer by call id; a new offer for a call still in it is a double
/// offer. An offer is released *before* the operation that can make the call dispatchable again (reject, log-out,
/// expiry), and after the ones that end it. Unanswered offers are made with a zero timeout ("ignored" batches) and are
/// expired only under the write side of <c>_gate</c>, while no dispatch is in flight, so every one of them is
/// registered before it can expire. Calls that a caller may abandon at random are never logged out or hung up by
/// the holder, so no one else can move a reservation between the holder's release and its operation.
/// </remarks>
internal sealed class QueueHammer(IReadOnlyList<ICallQueue> nodes, Func<Task<IReadOnlyList<string>>> verify) : IDisposable
{
    private static readonly string[] SkillNames = ["普通话", "方言", "English"];
    private static readonly TimeSpan Handled = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<string, string> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _ignored = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _enqueued = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _finished = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly SemaphoreSlim _gate = new(Readers, Readers);
    private const int Readers = 64;
    private long _clockMs = new DateTimeOffset(2025, 7, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
    private long _operations;
    private int _finishedCount;
    private int _offers;
    private int _accepted;
    private int _ended;
    private int _rejected;
    private int _expired;
    private int _loggedOut;
    private int _abandonedRinging;
    private int _abandonedByCaller;
    private int _duplicateEnqueues;

    public int Calls { get; init; } = 2000;

    public int Agents { get; init; } = 50;

    public int WorkersPerNode { get; init; } = 4;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public string Summary { get; private set; } = string.Empty;

    public void Dispose() => _gate.Dispose();

    public async Task RunAsync()
    {
        var random = new Random(12345);
        var callIds = Enumerable.Range(0, Calls).Select(i => $"call-{i:D5}").ToArray();
        var callerMayAbandon = callIds.Where(_ => random.NextDouble() < 0.15).ToHashSet(StringComparer.Ordinal);
        var agentSkills = Enumerable.Range(0, Agents).ToDictionary(
            i => $"agent-{i:D3}",
            i => (IReadOnlyList<AgentSkill>)[.. SkillNames.Where((_, k) => k == i % SkillNames.Length || random.NextDouble() < 0.3).Select(s => new AgentSkill(s, 1 + (i % 3)))]);
        var calls = callIds.ToDictionary(id => id, id => new QueuedCall(id, "139" + id, "12345", SkillNames[random.Next(SkillNames.Length)], random.Next(4), Now()));

        var stopwatch = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(Timeout);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var tasks = new List<Task>();

        // Agents sign in from alternating nodes.
        foreach (var (agentId, skills) in agentSkills)
        {
            Assert.True(await Node(agentId.GetHashCode(StringComparison.Ordinal)).SetReadyAsync(agentId, skills, Now()));
            Count();
        }

        // Enqueues from every node, overlapping so that many calls are enqueued twice (concurrently). The first part is
        // queued before the workers start (so that callers can hang up while waiting), the second part while they run.
        var firstPart = new List<Task>();
        for (var n = 0; n < nodes.Count; n++)
        {
            var node = nodes[n];
            var share = callIds.Where((_, i) => i % nodes.Count == n || random.NextDouble() < 0.3).ToArray();
            for (var part = 0; part < 2; part++)
            {
                var slice = share.Where((_, i) => i % 2 == part).ToArray();
                (part == 0 ? firstPart : tasks).Add(Task.Run(async () =>
                {
                    foreach (var id in slice)
                    {
                        var queued = await node.EnqueueAsync(calls[id]);
                        Count();
                        if (queued)
                        {
                            _enqueued.AddOrUpdate(id, 1, (_, c) => c + 1);
                        }
                        else
                        {
                            Interlocked.Increment(ref _duplicateEnqueues);
                        }
                    }
                }));
            }
        }

        // Callers hanging up at random (waiting or ringing); the workers start after the first third.
        await Task.WhenAll(firstPart);
        var abandonList = callerMayAbandon.OrderBy(_ => random.Next()).ToArray();
        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tasks.Add(Task.Run(async () =>
        {
            var r = new Random(7);
            for (var i = 0; i < abandonList.Length; i++)
            {
                var id = abandonList[i];
                if (i == abandonList.Length / 3)
                {
                    warmedUp.TrySetResult();
                }

                await Task.Yield();
                if (await Node(r.Next()).AbandonAsync(id, Now()))
                {
                    Interlocked.Increment(ref _abandonedByCaller);
                    Finish(id, "abandoned by caller");
                }

                Count();
            }

            warmedUp.TrySetResult();
        }));
        await warmedUp.Task;

        // Workers: dispatch and handle offers.
        var workers = new List<Task>();
        for (var n = 0; n < nodes.Count; n++)
        {
            for (var w = 0; w < WorkersPerNode; w++)
            {
                var node = nodes[n];
                var seed = (n * 100) + w;
                workers.Add(Task.Run(() => WorkAsync(node, agentSkills, callerMayAbandon, new Random(seed), done.Token)));
            }
        }

        // The reservation sweeper and the invariant checker.
        workers.Add(Task.Run(() => SweepAsync(agentSkills, done.Token)));
        workers.Add(Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                foreach (var v in await verify())
                {
                    _violations.Enqueue("invariant: " + v);
                }

                await Task.Delay(20);
            }
        }));

        await Task.WhenAll(tasks);
        while (Volatile.Read(ref _finishedCount) < Calls && !timeout.IsCancellationRequested && _violations.IsEmpty)
        {
            await Task.Delay(10);
        }

        await done.CancelAsync();
        await Task.WhenAll(workers);
        stopwatch.Stop();

        Assert.Empty(_violations.Take(20));
        Assert.False(timeout.IsCancellationRequested, $"Timed out with {_finishedCount} of {Calls} calls finished; {Describe()}");

        // Every call enqueued exactly once (duplicates refused), finished exactly once.
        Assert.Equal(Calls, _enqueued.Count);
        Assert.All(_enqueued.Values, c => Assert.Equal(1, c));
        Assert.True(_duplicateEnqueues > Calls / 10, Describe());
        Assert.Equal(Calls, _finished.Count);
        Assert.Equal(Calls, _finishedCount);

        // The counts reconcile.
        Assert.Equal(_accepted, _ended);
        Assert.Equal(Calls, _ended + _abandonedRinging + _abandonedByCaller);
        Assert.True(_offers >= _accepted + _rejected + _expired + _loggedOut + _abandonedRinging, Describe());
        Assert.True(_rejected > 0 && _expired > 0 && _loggedOut > 0 && _abandonedRinging > 0 && _abandonedByCaller > 0, Describe());

        // Nothing left anywhere; every agent ready again; retried enqueues of finished calls are refused.
        var snapshot = await nodes[0].GetSnapshotAsync(Now());
        Assert.All(snapshot.Skills, s => Assert.Equal(0, s.Waiting));
        Assert.Equal(0, snapshot.Reserved);
        Assert.Equal(0, snapshot.Connected);
        // Every abandon (waiting or ringing) put exactly one entry on the 漏接回拨 list, in the same atomic step.
        Assert.Equal(_abandonedRinging + _abandonedByCaller, snapshot.Missed);
        Assert.Equal(snapshot.Missed, (await nodes[0].GetMissedAsync(int.MaxValue)).Select(m => m.CallId).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Agents, snapshot.AgentsByStatus[AgentStatus.Ready]);
        Assert.Empty(await verify());
        foreach (var id in callIds.Take(200))
        {
            Assert.False(await nodes[^1].EnqueueAsync(calls[id]));
            Assert.Null(await nodes[0].GetCallAsync(id));
        }

        var ops = Interlocked.Read(ref _operations);
        Summary = $"{Describe()}; {ops} queue operations in {stopwatch.Elapsed.TotalSeconds:F2} s ≈ {ops / stopwatch.Elapsed.TotalSeconds:F0} ops/s";
    }

    private async Task WorkAsync(ICallQueue node, Dictionary<string, IReadOnlyList<AgentSkill>> skills, HashSet<string> callerMayAbandon, Random random, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var ignore = random.NextDouble() < 0.04;
            IReadOnlyList<Offer> offers;
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                offers = await node.DispatchAsync(Now(), ignore ? TimeSpan.Zero : Handled, random.Next(1, 6), CancellationToken.None);
                Count();
                foreach (var o in offers)
                {
                    Interlocked.Increment(ref _offers);
                    if (!_open.TryAdd(o.CallId, o.AgentId))
                    {
                        _violations.Enqueue($"{o.CallId} offered to {o.AgentId} while still offered to {_open.GetValueOrDefault(o.CallId)}");
                    }

                    if (ignore)
                    {
                        _ignored[o.CallId] = o.AgentId;
                    }
                }
            }
            finally
            {
                _gate.Release();
            }

            if (offers.Count == 0)
            {
                await Task.Delay(1, CancellationToken.None);
                continue;
            }

            if (ignore)
            {
                continue; // left ringing until the sweeper expires them
            }

            foreach (var o in offers)
            {
                await HandleAsync(node, o, skills[o.AgentId], callerMayAbandon.Contains(o.CallId), random);
            }
        }
    }

    private async Task HandleAsync(ICallQueue node, Offer offer, IReadOnlyList<AgentSkill> skills, bool callerMayAbandon, Random random)
    {
        var (callId, agentId) = (offer.CallId, offer.AgentId);
        var dice = random.NextDouble();
        if (dice < 0.08)
        {
            _open.TryRemove(callId, out _);
            var rejected = await node.RejectAsync(agentId, callId, Now());
            Count();
            if (rejected)
            {
                Interlocked.Increment(ref _rejected);
                await ReadyAgainAsync(node, agentId, skills);
            }
            else
            {
                ExpectGone(callId, callerMayAbandon, "reject");
            }
        }
        else if (dice < 0.11 && !callerMayAbandon)
        {
            _open.TryRemove(callId, out _);
            await node.LogOutAsync(agentId, Now());
            Count();
            Interlocked.Increment(ref _loggedOut);
            await ReadyAgainAsync(node, agentId, skills);
        }
        else if (dice < 0.15 && !callerMayAbandon)
        {
            var abandoned = await node.AbandonAsync(callId, Now()); // caller hangs up while it rings
            Count();
            if (!abandoned)
            {
                _violations.Enqueue($"{callId}: abandon while ringing at {agentId} refused");
            }

            Interlocked.Increment(ref _abandonedRinging);
            Finish(callId, "abandoned while ringing");
            _open.TryRemove(callId, out _);
        }
        else
        {
            var accepted = await node.AcceptAsync(agentId, callId, Now());
            Count();
            if (!accepted)
            {
                ExpectGone(callId, callerMayAbandon, "accept");
                _open.TryRemove(callId, out _);
                return;
            }

            Interlocked.Increment(ref _accepted);
            var other = nodes[random.Next(nodes.Count)]; // the hang-up may be seen by any node
            if (!await other.EndCallAsync(callId, Now()))
            {
                _violations.Enqueue($"{callId}: end refused");
            }

            Count();
            Interlocked.Increment(ref _ended);
            Finish(callId, "ended");
            _open.TryRemove(callId, out _);
            if (random.NextDouble() < 0.1 && !await other.SetNotReadyAsync(agentId, "小休", Now()))
            {
                _violations.Enqueue($"{agentId}: not ready refused in wrap-up");
            }

            await ReadyAgainAsync(other, agentId, skills);
        }
    }

    private async Task SweepAsync(Dictionary<string, IReadOnlyList<AgentSkill>> skills, CancellationToken stop)
    {
        var turn = 0;
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(3, CancellationToken.None);
            var node = nodes[turn++ % nodes.Count];
            IReadOnlyList<Offer> expired;
            HashSet<string> released;
            for (var i = 0; i < Readers; i++)
            {
                await _gate.WaitAsync(CancellationToken.None);
            }

            try
            {
                // No dispatch in flight: every ignored offer is registered, and all are due.
                released = new HashSet<string>(_ignored.Keys, StringComparer.Ordinal);
                foreach (var id in released)
                {
                    _ignored.TryRemove(id, out _);
                    _open.TryRemove(id, out _);
                }

                expired = await node.ExpireReservationsAsync(Now(), CancellationToken.None);
                Count();
            }
            finally
            {
                _gate.Release(Readers);
            }

            foreach (var o in expired)
            {
                Interlocked.Increment(ref _expired);
                if (!released.Contains(o.CallId))
                {
                    _violations.Enqueue($"{o.CallId} expired but was not left ringing");
                }

                await ReadyAgainAsync(node, o.AgentId, skills[o.AgentId]);
            }
        }
    }

    private async Task ReadyAgainAsync(ICallQueue node, string agentId, IReadOnlyList<AgentSkill> skills)
    {
        if (!await node.SetReadyAsync(agentId, skills, Now()))
        {
            _violations.Enqueue($"{agentId}: ready refused");
        }

        Count();
    }

    private void ExpectGone(string callId, bool callerMayAbandon, string what)
    {
        // Only a caller hanging up can take a handled offer away from its holder.
        if (!callerMayAbandon)
        {
            _violations.Enqueue($"{callId}: {what} refused but nobody else could move it");
        }
    }

    private void Finish(string callId, string how)
    {
        if (_finished.TryAdd(callId, how))
        {
            Interlocked.Increment(ref _finishedCount);
        }
        else
        {
            _violations.Enqueue($"{callId} finished twice: {_finished[callId]} and {how}");
        }
    }

    private ICallQueue Node(int pick) => nodes[(pick & int.MaxValue) % nodes.Count];

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Increment(ref _clockMs));

    private void Count() => Interlocked.Increment(ref _operations);

    private string Describe() =>
        $"offers {_offers}, accepted {_accepted}, ended {_ended}, rejected {_rejected}, expired {_expired}, logged out {_loggedOut}, " +
        $"abandoned ringing {_abandonedRinging}, abandoned by caller {_abandonedByCaller}, duplicate enqueues {_duplicateEnqueues}";
}
