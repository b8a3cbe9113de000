using CloudHypervisor.Sys.Threading;

namespace CloudHypervisor.Tests.Sys.Threading;

public sealed class WorkQueueTests
{
    [Fact]
    public void ItemsComeOutInTheOrderTheyWentIn()
    {
        var queue = new WorkQueue<int>();
        for (var i = 0; i < 5; i++)
        {
            Assert.True(queue.TryAdd(i));
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.True(queue.TryTake(out var item));
            Assert.Equal(i, item);
        }
    }

    [Fact]
    public void AfterCompletionAddsAreRefusedButQueuedItemsAreStillTaken()
    {
        var queue = new WorkQueue<string>();
        Assert.True(queue.TryAdd("queued"));
        queue.CompleteAdding();

        Assert.False(queue.TryAdd("late"));
        Assert.True(queue.TryTake(out var item));
        Assert.Equal("queued", item);
        Assert.False(queue.TryTake(out _));
    }

    [Fact]
    public async Task AWaitingConsumerWakesForAnItemAndForCompletion()
    {
        var queue = new WorkQueue<int>();
        var taken = new List<int>();
        var consumer = Task.Factory.StartNew(() =>
        {
            while (queue.TryTake(out var item))
            {
                taken.Add(item);
            }
        }, TaskCreationOptions.LongRunning);

        await Task.Delay(50);
        Assert.False(consumer.IsCompleted);
        queue.TryAdd(7);
        queue.TryAdd(8);
        queue.CompleteAdding();

        await consumer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([7, 8], taken);
    }
}
