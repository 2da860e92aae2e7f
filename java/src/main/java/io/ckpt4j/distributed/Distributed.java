package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.GlooDeviceVector;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.gloo.Device;

/**
 * {@code torch.distributed.init_process_group}: joins this process to a process group on
 * LibTorch's c10d engine, the one Python's ranks run, so Java and Python processes can be ranks of
 * one job.
 *
 * <pre>{@code
 * try (ProcessGroup group = Distributed.init()) {           // torchrun's environment
 *   group.allReduce(grad, ReduceOp.AVG);
 *   group.barrier();
 * }                                                         // destroy_process_group()
 * }</pre>
 *
 * <p>Backends: {@code gloo} (CPU tensors) is the one this build runs. {@code nccl} is what Python
 * selects for CUDA tensors; the presets' NCCL classes exist only in their gpu build (on this CPU
 * build they fail to load), so it is refused here and has never been run by this project.
 *
 * <p>Unlike Python there is no hidden global default group: the caller holds the
 * {@link ProcessGroup} and closes it.
 *
 * <p>Thread safety: stateless; each call makes a new group.
 */
public final class Distributed {
  /** Where Python reads the network interface Gloo binds to ({@code GLOO_SOCKET_IFNAME}). */
  static final String SOCKET_IFNAME = "GLOO_SOCKET_IFNAME";

  private Distributed() {}

  /** {@code init_process_group("gloo")} from torchrun's environment ({@code env://}). */
  public static ProcessGroup init() throws CheckpointException {
    return init(DistributedOptions.fromEnvironment());
  }

  /**
   * {@code init_process_group(backend, init_method, rank=, world_size=, timeout=)}: opens the
   * store (rank 0 hosts a TCPStore; the others connect), then waits for every rank to join, at
   * most the options' timeout.
   *
   * @throws CheckpointException {@link Kind#PEER_FAILED} when the ranks do not all join within
   *     the timeout (or the master's port is taken); {@link Kind#DEVICE} for backend
   *     {@code nccl}, which this CPU build has not; {@link Kind#INVALID_VALUE} for another backend
   */
  public static ProcessGroup init(DistributedOptions options) throws CheckpointException {
    checkBackend(options.backend());
    String who = ProcessGroup.describe(options);
    StoreChain stores = StoreChain.open(options, who);
    try {
      ProcessGroupGloo gloo = newGloo(options, stores, who);
      return new ProcessGroup(options, stores, gloo);
    } catch (CheckpointException | RuntimeException e) {
      stores.close();
      throw e;
    }
  }

  private static void checkBackend(String backend) throws CheckpointException {
    if (backend.equals(DistributedOptions.NCCL)) {
      throw new CheckpointException(Kind.DEVICE, "backend nccl needs CUDA and the presets' gpu"
          + " build; this is the CPU build: use backend gloo");
    }
    if (!backend.equals(DistributedOptions.GLOO)) {
      throw new CheckpointException(Kind.INVALID_VALUE, "unknown backend '" + backend
          + "': use gloo");
    }
  }

  private static ProcessGroupGloo newGloo(DistributedOptions options, StoreChain stores,
      String who) throws CheckpointException {
    try (Milliseconds timeout = new Milliseconds(options.timeout().toMillis());
        ProcessGroupGloo.Options gloo = ProcessGroupGloo.Options.create(timeout);
        Device device = device(options);
        GlooDeviceVector devices = new GlooDeviceVector(device)) {
      gloo.devices(devices);
      // Its own reference, as the stores': a PointerScope the caller has open must not free it.
      return new ProcessGroupGloo(stores.forBackend(), options.rank(), options.worldSize(), gloo)
          .retainReference();
    } catch (RuntimeException e) {
      throw C10dFailures.reword(who, "joining the group (" + options.worldSize() + " ranks)", e);
    }
  }

  /**
   * The network device Gloo binds to, as Python chooses it: the interface
   * {@code GLOO_SOCKET_IFNAME} names; loopback when the master is on loopback (a one-host job);
   * else the address this host's name resolves to.
   */
  private static Device device(DistributedOptions options) {
    String ifname = System.getenv(SOCKET_IFNAME);
    if (ifname != null && !ifname.isBlank()) {
      return ProcessGroupGloo.createDeviceForInterface(ifname.strip());
    }
    if (options.masterAddr() == null || isLoopback(options.masterAddr())) {
      return ProcessGroupGloo.createDeviceForHostname(LOOPBACK);
    }
    return ProcessGroupGloo.createDefaultDevice();
  }

  /** The IPv4 loopback address a one-host job binds to. */
  private static final String LOOPBACK = "127.0.0.1";

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
