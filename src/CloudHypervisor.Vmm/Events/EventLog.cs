using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Events;

/// <summary>
/// Where VMM components report lifecycle events: each is logged at INFO, as upstream, and
/// written to the <c>--event-monitor</c> stream when one is installed.
/// </summary>
public static class EventLog
{
    private static EventMonitor? monitor;

    public static void Install(EventMonitor? eventMonitor) => monitor = eventMonitor;

    public static void Emit(string source, string name)
    {
        Log.Info($"Event: source = {source} event = {name}");
        monitor?.Emit(source, name, []);
    }

    public static void Emit(string source, string name, string key, string value)
    {
        Log.Info($"Event: source = {source} event = {name} {key} = {value}");
        monitor?.Emit(source, name, [new(key, value)]);
    }

    public static void Emit(string source, string name, string key1, string value1, string key2, string value2)
    {
        Log.Info($"Event: source = {source} event = {name} {key1} = {value1} {key2} = {value2}");
        monitor?.Emit(source, name, [new(key1, value1), new(key2, value2)]);
    }
}
