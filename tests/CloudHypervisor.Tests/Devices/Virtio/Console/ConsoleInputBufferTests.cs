using CloudHypervisor.Devices.Virtio.Console;

namespace CloudHypervisor.Tests.Devices.Virtio.Console;

public sealed class ConsoleInputBufferTests
{
    [Fact]
    public void BytesComeOutInOrderAcrossTheRingsWrap()
    {
        var buffer = new ConsoleInputBuffer();
        var filler = new byte[ConsoleInputBuffer.Capacity - 3];
        Assert.Equal(filler.Length, buffer.Enqueue(filler));
        Assert.Equal(filler.Length, buffer.Dequeue(new byte[filler.Length]));

        Assert.Equal(6, buffer.Enqueue("abcdef"u8));
        var out1 = new byte[4];
        Assert.Equal(4, buffer.Dequeue(out1));
        var out2 = new byte[10];
        Assert.Equal(2, buffer.Dequeue(out2));

        Assert.Equal("abcd"u8.ToArray(), out1);
        Assert.Equal("ef"u8.ToArray(), out2[..2]);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void InputBeyondTheCapacityIsDropped()
    {
        var buffer = new ConsoleInputBuffer();

        Assert.Equal(ConsoleInputBuffer.Capacity, buffer.Enqueue(new byte[ConsoleInputBuffer.Capacity + 10]));
        Assert.Equal(0, buffer.Enqueue("x"u8));
    }
}
