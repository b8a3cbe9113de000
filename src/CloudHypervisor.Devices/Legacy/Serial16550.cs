namespace CloudHypervisor.Devices.Legacy;

/// <summary>A 16550A UART at 0x3F8 (IRQ 4): output to a sink, input queued by the VMM.</summary>
public sealed class Serial16550 : IBusDevice
{
    private const int Data = 0, Ier = 1, Iir = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;
    private const byte LcrDlab = 0x80, McrLoop = 0x10;
    private const byte IerReceivedData = 0x01, IerThrEmpty = 0x02, IerMask = 0x0F;
    private const byte IirNone = 0x01, IirThrEmpty = 0x02, IirReceivedData = 0x04, IirFifoBits = 0xC0;
    private const byte LsrDataReady = 0x01, LsrIdle = 0x60;
    private readonly object gate = new();
    private readonly IByteSink output;
    private readonly IInterruptLine? interrupt;
    private readonly Queue<byte> input = new();
    private byte interruptEnable, interruptIdentification = IirNone, lineControl = 0x03, modemControl = 0x08,
        lineStatus = LsrIdle, modemStatus = 0xB0, scratch, divisorLow = 12, divisorHigh;

    public Serial16550(IByteSink output, IInterruptLine? interrupt)
    {
        this.output = output;
        this.interrupt = interrupt;
    }

    public void Read(ulong baseAddress, ulong offset, Span<byte> data)
    {
        if (data.Length != 1)
        {
            data.Clear();
            return;
        }

        lock (gate)
        {
            data[0] = offset switch
            {
                Data when (lineControl & LcrDlab) != 0 => divisorLow,
                Data => ReceiveByte(),
                Ier when (lineControl & LcrDlab) != 0 => divisorHigh,
                Ier => interruptEnable,
                Iir => ReadInterruptIdentification(),
                Lcr => lineControl,
                Mcr => modemControl,
                Lsr => lineStatus,
                Msr => modemStatus,
                Scr => scratch,
                _ => 0,
            };
        }
    }

    public void Write(ulong baseAddress, ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length != 1)
        {
            return;
        }

        var value = data[0];
        var raise = false;
        lock (gate)
        {
            switch (offset)
            {
                case Data when (lineControl & LcrDlab) != 0:
                    divisorLow = value;
                    break;
                case Data:
                    if ((modemControl & McrLoop) != 0)
                    {
                        raise = Enqueue(value);
                    }
                    else
                    {
                        output.Write(data);
                        raise = SetPending(IerThrEmpty, IirThrEmpty);
                    }

                    break;
                case Ier when (lineControl & LcrDlab) != 0:
                    divisorHigh = value;
                    break;
                case Ier:
                    interruptEnable = (byte)(value & IerMask);
                    break;
                case Lcr:
                    lineControl = value;
                    break;
                case Mcr:
                    modemControl = value;
                    break;
                case Scr:
                    scratch = value;
                    break;
            }
        }

        if (raise)
        {
            interrupt?.Trigger();
        }
    }

    /// <summary>Bytes typed by the user or received on the backend socket.</summary>
    public void QueueInput(ReadOnlySpan<byte> bytes)
    {
        var raise = false;
        lock (gate)
        {
            foreach (var b in bytes)
            {
                raise |= Enqueue(b);
            }
        }

        if (raise)
        {
            interrupt?.Trigger();
        }
    }

    private bool Enqueue(byte value)
    {
        input.Enqueue(value);
        lineStatus |= LsrDataReady;
        return SetPending(IerReceivedData, IirReceivedData);
    }

    private byte ReceiveByte()
    {
        if (!input.TryDequeue(out var value))
        {
            return 0;
        }

        if (input.Count == 0)
        {
            lineStatus &= unchecked((byte)~LsrDataReady);
            if (interruptIdentification == IirReceivedData)
            {
                interruptIdentification = IirNone;
            }
        }

        return value;
    }

    private byte ReadInterruptIdentification()
    {
        var value = (byte)(interruptIdentification | IirFifoBits);
        interruptIdentification = IirNone;
        return value;
    }

    private bool SetPending(byte enableBit, byte identification)
    {
        if ((interruptEnable & enableBit) == 0)
        {
            return false;
        }

        interruptIdentification = identification;
        return true;
    }
}
