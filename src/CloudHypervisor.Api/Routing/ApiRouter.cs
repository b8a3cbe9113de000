using System.Text.Json.Serialization.Metadata;
using CloudHypervisor.Api.Client;
using CloudHypervisor.Api.Http;
using CloudHypervisor.Contracts;
using CloudHypervisor.Contracts.Json;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Logging;
using CloudHypervisor.Vmm.Control;

namespace CloudHypervisor.Api.Routing;

/// <summary>
/// Maps <c>/api/v1/vm.*</c> and <c>/api/v1/vmm.*</c> requests onto the VMM, with upstream's
/// wire behaviour: its method and body checks, error chains as JSON arrays, and the status
/// derived from the immediate cause of a failure.
/// </summary>
public sealed class ApiRouter : IHttpRequestHandler
{
    private const string Prefix = "/api/v1/";
    private readonly Dictionary<string, ApiEndpoint> endpoints;
    private readonly VmmController vmm;

    // Fetched per request, never at construction: building the context and type metadata takes milliseconds, which
    // the command line's VM would otherwise wait for on its boot path.
    private static ContractsJsonContext Types => ContractsJsonContext.Default;

    public ApiRouter(VmmController vmm)
    {
        this.vmm = vmm;
        endpoints = new Dictionary<string, ApiEndpoint>(StringComparer.Ordinal);
        AddEndpoints();
    }

    /// <summary>Answers one request; the descriptors it carried are used by the endpoint or closed.</summary>
    public HttpResponse Handle(HttpRequest request)
    {
        var method = request.Method;
        var body = request.Body;
        var fds = request.TakeFiles();
        var consumed = false;
        try
        {
            if (!TryGetEndpoint(request.Path, out var endpoint))
            {
                return HttpResponse.NotFound();
            }

            if (MethodMismatch(endpoint, method) is { } wrongMethod)
            {
                return wrongMethod;
            }

            if (BodyMismatch(endpoint, body) is { } wrongBody)
            {
                return wrongBody;
            }

            var response = endpoint.Handler(new ApiCall(body ?? [], fds));
            consumed = endpoint.TakesFds;
            return response;
        }
        catch (ContractJsonException e)
        {
            return HttpResponse.Error(400, "Failed to deserialize JSON", e.Message);
        }
        catch (FdCountException)
        {
            return HttpResponse.BadRequest();
        }
        finally
        {
            if (!consumed)
            {
                foreach (var fd in fds)
                {
                    fd.Dispose();
                }
            }
        }
    }

    private static HttpResponse? MethodMismatch(ApiEndpoint endpoint, HttpRequestMethod method)
    {
        var expected = endpoint.Kind switch
        {
            EndpointKind.Get or EndpointKind.Counters => HttpRequestMethod.Get,
            _ => HttpRequestMethod.Put,
        };
        if (method == expected)
        {
            return null;
        }

        var emptyBody = (method == HttpRequestMethod.Patch || method == HttpRequestMethod.Delete)
            && (endpoint.Kind == EndpointKind.Counters || endpoint.Kind == EndpointKind.Action);
        return emptyBody ? HttpResponse.Empty(400) : HttpResponse.BadRequest();
    }

    private static HttpResponse? BodyMismatch(ApiEndpoint endpoint, byte[]? body) => endpoint.Body switch
    {
        BodyRule.Forbidden when body is not null => HttpResponse.BadRequest(),
        BodyRule.Required when body is null => endpoint.Name == "vm.create" ? HttpResponse.Empty(400) : HttpResponse.BadRequest(),
        _ => null,
    };

    private bool TryGetEndpoint(string path, out ApiEndpoint endpoint)
    {
        endpoint = null!;
        return path.StartsWith(Prefix, StringComparison.Ordinal)
            && endpoints.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(path.AsSpan(Prefix.Length), out endpoint!);
    }

    private void Add(string name, EndpointKind kind, BodyRule body, string apiError, Func<ApiCall, HttpResponse> action, bool takesFds = false) =>
        endpoints.Add(name, new ApiEndpoint(name, kind, body, takesFds, call =>
        {
            try
            {
                return action(call);
            }
            catch (ContractJsonException)
            {
                throw;
            }
            catch (VmError e)
            {
                return HttpResponse.Error(StatusOf(e.Kind), (string[])["Error from API", apiError, .. e.Chain()]);
            }
            catch (ChainedException e)
            {
                Log.Error($"{name} failed: {e.Message}");
                return HttpResponse.Error(500, (string[])["Error from API", apiError, .. e.Chain()]);
            }
        }));

    private void Action(string name, string apiError, Action run) =>
        Add(name, EndpointKind.Action, BodyRule.Forbidden, apiError, _ =>
        {
            run();
            return HttpResponse.NoContent();
        });

    private void Action<T>(string name, string apiError, Func<ContractsJsonContext, JsonTypeInfo<T>> type, Action<T> run) =>
        Add(name, EndpointKind.Action, BodyRule.Required, apiError, call =>
        {
            run(call.Read(type(Types)));
            return HttpResponse.NoContent();
        });

    private void AddDevice<T>(string name, string apiError, Func<ContractsJsonContext, JsonTypeInfo<T>> type, Func<T, ApiCall, DeviceAddition> addition, bool takesFds = false) =>
        Add(name, EndpointKind.Action, BodyRule.Required, apiError, call =>
        {
            var info = vmm.AddDevice(addition(call.Read(type(Types)), call));
            return info is null ? HttpResponse.NoContent() : HttpResponse.Ok(SerdeJson.SerializeToUtf8Bytes(info, Types.PciDeviceInfo));
        }, takesFds);

    private static int StatusOf(VmErrorKind kind) => kind switch
    {
        VmErrorKind.NotCreated or VmErrorKind.ConfigMissing or VmErrorKind.DeviceNotFound => 404,
        VmErrorKind.InvalidConfig => 400,
        VmErrorKind.DuplicateIdentifier => 409,
        VmErrorKind.ResizePending => 429,
        _ => 500,
    };

    private void AddEndpoints()
    {
        Add("vmm.ping", EndpointKind.Get, BodyRule.Ignored, "The VMM could not be pinged",
            _ => HttpResponse.Ok(SerdeJson.SerializeToUtf8Bytes(vmm.Ping(), Types.VmmPingResponse)));
        Add("vmm.shutdown", EndpointKind.Put, BodyRule.Ignored, "The VMM could not shutdown", _ =>
        {
            vmm.ShutdownVmm();
            return HttpResponse.Ok([]);
        });
        Add("vm.info", EndpointKind.Get, BodyRule.Ignored, "The VM info is not available",
            _ => HttpResponse.Ok(SerdeJson.SerializeToUtf8Bytes(vmm.Info(), Types.VmInfo)));
        Add("vm.counters", EndpointKind.Counters, BodyRule.Ignored, "The VM info is not available",
            _ => HttpResponse.Ok(SerdeJson.SerializeToUtf8Bytes(vmm.Counters(), Types.VmCounters)));
        Add("vm.create", EndpointKind.Put, BodyRule.Required, "The VM could not be created", call =>
        {
            if (call.Fds.Count > 0)
            {
                Log.Warn("Ignoring file descriptors sent with vm.create");
            }

            vmm.CreateVm(call.Read(Types.VmConfig));
            return HttpResponse.NoContent();
        });

        Action("vm.boot", "The VM could not boot", vmm.BootVm);
        Action("vm.delete", "The VM could not be deleted", vmm.DeleteVm);
        Action("vm.shutdown", "The VM could not shutdown", vmm.ShutdownVm);
        Action("vm.reboot", "The VM could not reboot", vmm.RebootVm);
        Action("vm.pause", "The VM could not be paused", vmm.PauseVm);
        Action("vm.resume", "The VM could not resume", vmm.ResumeVm);
        Action("vm.power-button", "Error triggering power button", vmm.PowerButton);
        Action("vm.nmi", "Error triggering NMI", vmm.InjectNmi);

        Action("vm.resize", "The VM could not be resized", static t => t.VmResize, vmm.Resize);
        Action("vm.resize-zone", "The memory zone could not be resized", static t => t.VmResizeZone, vmm.ResizeZone);
        Action("vm.resize-disk", "The disk could not be resized", static t => t.VmResizeDisk, vmm.ResizeDisk);
        Action("vm.remove-device", "The device could not be removed from the VM", static t => t.VmRemoveDevice, r => vmm.RemoveDevice(r.Id));
        Action("vm.snapshot", "The VM could not be snapshotted", static t => t.VmSnapshotConfig, vmm.Snapshot);
        Action("vm.send-migration", "Error dispatching the migration worker", static t => t.SendMigrationData, vmm.SendMigration);

        Add("vm.restore", EndpointKind.Action, BodyRule.Required, "The VM could not be restored", call =>
        {
            var restore = call.Read(Types.RestoreConfig);
            call.RequireFdCount(RestoreFdCount(restore));
            vmm.Restore(restore);
            return HttpResponse.NoContent();
        });
        Add("vm.receive-migration", EndpointKind.Action, BodyRule.Required, "Error receiving migration", call =>
        {
            var receive = call.Read(Types.ReceiveMigrationData);
            call.RequireFdCount(receive.VfioFds is { } vfio ? vfio.Count + 1 : 0);
            vmm.ReceiveMigration(receive);
            return HttpResponse.NoContent();
        });

        AddDevice("vm.add-disk", "The disk could not be added to the VM", static t => t.DiskConfig, (d, _) => DeviceAddition.Disk(d));
        AddDevice("vm.add-fs", "The fs could not be added to the VM", static t => t.FsConfig, (d, _) => DeviceAddition.Fs(d));
        AddDevice("vm.add-pmem", "The pmem device could not be added to the VM", static t => t.PmemConfig, (d, _) => DeviceAddition.Pmem(d));
        AddDevice("vm.add-user-device", "The user device could not be added to the VM", static t => t.UserDeviceConfig, (d, _) => DeviceAddition.UserDevice(d));
        AddDevice("vm.add-vdpa", "The vDPA device could not be added to the VM", static t => t.VdpaConfig, (d, _) => DeviceAddition.Vdpa(d));
        AddDevice("vm.add-vsock", "The vsock device could not be added to the VM", static t => t.VsockConfig, (d, _) => DeviceAddition.Vsock(d));
        AddDevice("vm.add-generic-vhost-user", "The generic vhost-user device could not be added to the VM", static t => t.GenericVhostUserConfig,
            (d, _) => DeviceAddition.GenericVhostUser(d));
        AddDevice("vm.add-net", "The network device could not be added to the VM", static t => t.NetConfig,
            (d, call) => DeviceAddition.Net(d, call.Fds), takesFds: true);
        AddDevice("vm.add-device", "The device could not be added to the VM", static t => t.DeviceConfig, (d, call) =>
        {
            if (call.Fds.Count > 1)
            {
                throw new FdCountException();
            }

            return DeviceAddition.Device(d, call.Fds.Count == 1 ? call.Fds[0] : null);
        }, takesFds: true);
    }

    private static int RestoreFdCount(RestoreConfig restore)
    {
        var count = 0;
        foreach (var net in restore.NetFds ?? [])
        {
            count += (int)net.NumFds;
        }

        if (restore.VfioFds is { } vfio)
        {
            count += vfio.Count + 1;
        }

        return count;
    }
}
