using System;
using System.Collections.Generic;
using System.Threading;
using StackExchange.Redis;

namespace Memalloc.Redis;

/// <summary>
/// The store's channel, as this process hears it: one subscription per store, made on the first wait and kept, that
/// wakes the watchers of the name each message carries (docs/redis-design.md, "Waits"). A watcher is made before its
/// waiter checks its condition, so a message published between the check and the sleep is never missed; after the
/// connection comes back (messages published meanwhile are lost), every watcher wakes and checks again.
/// </summary>
internal sealed class StoreEvents
{
    /// <summary>The message that wakes every watcher (Remove-MemStore): no stack name is empty.</summary>
    public const string Everything = "";

    private readonly ISubscriber _subscriber;
    private readonly RedisChannel _channel;
    private readonly object _gate = new();
    private readonly List<Watcher> _watchers = [];
    private bool _subscribed;

    public StoreEvents(IConnectionMultiplexer connection, RedisChannel channel)
    {
        _subscriber = connection.GetSubscriber();
        _channel = channel;
        connection.ConnectionRestored += (_, _) => WakeAll();
    }

    /// <summary>A watcher of <paramref name="topic"/> (a stack's or queue's name, or a lock's message), on a channel this
    /// process is subscribed to when this returns (the server confirmed the subscription).</summary>
    public Watcher Watch(string topic)
    {
        var watcher = new Watcher(this, topic);
        lock (_gate)
        {
            _watchers.Add(watcher);
        }

        try
        {
            EnsureSubscribed();
        }
        catch
        {
            watcher.Dispose();
            throw;
        }

        return watcher;
    }

    private void EnsureSubscribed()
    {
        lock (_gate)
        {
            if (_subscribed)
            {
                return;
            }
        }

        _subscriber.Subscribe(_channel, (_, message) => Wake((string?)message ?? Everything));
        lock (_gate)
        {
            _subscribed = true;
        }
    }

    private void Wake(string topic)
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                if (topic.Length == 0 || watcher.Topic == topic)
                {
                    watcher.Signal();
                }
            }
        }
    }

    private void WakeAll() => Wake(Everything);

    private void Forget(Watcher watcher)
    {
        lock (_gate)
        {
            _ = _watchers.Remove(watcher);
        }
    }

    /// <summary>One waiter's interest in a topic: <see cref="Arm"/> before each check of the condition, then
    /// <see cref="Sleep"/>.</summary>
    internal sealed class Watcher(StoreEvents events, string topic) : IDisposable
    {
        private readonly ManualResetEventSlim _signal = new();

        public string Topic { get; } = topic;

        public void Arm() => _signal.Reset();

        public void Signal() => _signal.Set();

        /// <summary>Sleeps until a message for the topic came since <see cref="Arm"/> (true), or <paramref name="timeout"/>
        /// passed (false); OperationCanceledException when cancelled.</summary>
        public bool Sleep(TimeSpan timeout, CancellationToken cancellation) => _signal.Wait(timeout, cancellation);

        public void Dispose()
        {
            events.Forget(this);
            _signal.Dispose();
        }
    }
}
