using System.Diagnostics;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Sys.Threading;

namespace CloudHypervisor.Vmm.Events;

/// <summary>
/// The <c>--event-monitor</c> stream: each lifecycle event as pretty-printed JSON
/// (<c>timestamp</c> since VMM start as <c>{"secs","nanos"}</c>, <c>source</c>, <c>event</c>,
/// <c>properties</c>), written by its own thread (<see cref="StartWriter"/>) so no caller ever blocks on the file.
/// </summary>
public sealed class EventMonitor : IDisposable
{
    private static readonly byte[] Separator = "\n\n"u8.ToArray();
    private readonly WorkQueue<byte[]> pending = new();
    private readonly FileStream output;
    private readonly long start = Stopwatch.GetTimestamp();
    private readonly Thread writer;
    private readonly Action? writerStarted;
    private int writerStarting;

    private EventMonitor(FileStream output, Action? writerStarted)
    {
        this.output = output;
        this.writerStarted = writerStarted;
        writer = new Thread(WriteLoop) { Name = "event-monitor", IsBackground = true };
    }

    /// <summary>
    /// Starts the writer thread (once); events emitted before wait in the queue. The VMM starts it once the command
    /// line's VM has booted, so the thread's creation and sandboxing stay off the boot path.
    /// </summary>
    public void StartWriter()
    {
        if (Interlocked.Exchange(ref writerStarting, 1) == 0)
        {
            ThreadSandbox.Start(writer);
        }
    }

    /// <summary>Creates (truncating) the file at <paramref name="path"/>.</summary>
    /// <param name="writerStarted">Runs first on the writer thread (the Landlock confinement of <c>--landlock</c>).</param>
    public static EventMonitor OpenPath(string path, Action? writerStarted = null) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0), writerStarted);

    /// <summary>Takes ownership of an already open descriptor.</summary>
    public static EventMonitor OpenFd(int fd, Action? writerStarted = null) =>
        new(new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0), writerStarted);

    public void Emit(string source, string name, ReadOnlySpan<KeyValuePair<string, string>> properties)
    {
        var elapsed = Stopwatch.GetElapsedTime(start);
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("timestamp");
            json.WriteNumber("secs", (ulong)elapsed.Ticks / TimeSpan.TicksPerSecond);
            json.WriteNumber("nanos", (uint)(elapsed.Ticks % TimeSpan.TicksPerSecond * 100));
            json.WriteEndObject();
            json.WriteString("source", source);
            json.WriteString("event", name);
            if (properties.IsEmpty)
            {
                json.WriteNull("properties");
            }
            else
            {
                json.WriteStartObject("properties");
                foreach (var (key, value) in properties)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // False once disposed: events after shutdown are dropped.
        _ = pending.TryAdd(buffer.ToArray());
    }

    /// <summary>Writes every queued event, then closes the file.</summary>
    public void Dispose()
    {
        pending.CompleteAdding();
        if (Interlocked.Exchange(ref writerStarting, 1) == 0)
        {
            WriteQueued();
        }
        else
        {
            writer.Join();
        }

        output.Dispose();
    }

    private void WriteLoop()
    {
        writerStarted?.Invoke();
        ThreadSandbox.Enter(SeccompThreadKind.EventMonitor);
        WriteQueued();
    }

    /// <summary>Writes events until the queue is completed and empty.</summary>
    private void WriteQueued()
    {
        while (pending.TryTake(out var item))
        {
            try
            {
                output.Write(item);
                output.Write(Separator);
            }
            catch (IOException)
            {
                // A reader that went away must not take the VMM down.
            }
        }
    }
}
