package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.OwnedResource;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.FileStore;
import org.bytedeco.pytorch.PrefixStore;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/**
 * The key-value store the ranks meet in, as Python's {@code init_process_group} builds it: a
 * {@code TCPStore} (rank 0 hosts it) or a {@code FileStore}, seen through the prefix Python's
 * default group uses ({@code default_pg}, then the group name {@code 0/}, then the device
 * {@code cpu/}), so a Python rank and a Java rank find each other's keys.
 *
 * <p>Each c10d constructor gets its own store object: handing one Java {@code Store} to a second
 * c10d constructor aborts the JVM (an intrusive_ptr refcount check in LibTorch), so
 * {@link #forBackend()} makes a fresh {@code PrefixStore} per call.
 *
 * <p>The stores outlive the call that makes them, so each takes a reference of its own
 * ({@code retainReference}): a {@code PointerScope} the caller has open releases only the scope's
 * reference, and {@link #close()} the last one.
 *
 * <p>Thread safety: made and closed by one thread ({@link ProcessGroup}'s owner).
 */
final class StoreChain extends OwnedResource {
  /** The key prefix of Python's default process group's CPU backend (checked against 2.13). */
  static final String DEFAULT_PG_CPU_PREFIX = "default_pg/0//cpu/";

  private final Store base;
  private final int port;
  private final java.util.List<Store> handedOut = new java.util.ArrayList<>();

  private StoreChain(Store base, int port) {
    this.base = base;
    this.port = port;
  }

  /**
   * Opens the store {@code options} name: for TCP, rank 0 listens on the master port and the
   * others connect, each waiting at most the options' timeout.
   *
   * @throws CheckpointException ({@link io.ckpt4j.CheckpointException.Kind#PEER_FAILED}) when
   *     the master cannot be reached or its port is taken
   */
  static StoreChain open(DistributedOptions options, String who) throws CheckpointException {
    try {
      if (options.rendezvous() == DistributedOptions.Rendezvous.FILE) {
        return new StoreChain(
            new FileStore(options.file().toString(), options.worldSize()).retainReference(), 0);
      }
      try (TCPStoreOptions o = new TCPStoreOptions();
          SizeTPointer workers = new SizeTPointer(1);
          Milliseconds timeout = new Milliseconds(options.timeout().toMillis())) {
        o.port((short) options.masterPort());
        o.isServer(options.rank() == 0);
        o.numWorkers(workers.put(options.worldSize()));
        o.waitWorkers(false);
        o.timeout(timeout);
        TCPStore tcp = new TCPStore(options.masterAddr(), o).retainReference();
        return new StoreChain(tcp, Short.toUnsignedInt(tcp.getPort()));
      }
    } catch (RuntimeException e) {
      throw C10dFailures.reword(who, "the rendezvous at " + options.initMethod(), e);
    }
  }

  /** The port the TCPStore listens on (the one rank 0 picked for port 0); 0 for a FileStore. */
  int port() {
    return port;
  }

  /** A new store over the base, under Python's default-group prefix: for one constructor. */
  Store forBackend() {
    ensureOpen();
    PrefixStore store = new PrefixStore(DEFAULT_PG_CPU_PREFIX, base).retainReference();
    handedOut.add(store);
    return store;
  }

  @Override
  protected void releaseResources() {
    for (int i = handedOut.size() - 1; i >= 0; i--) handedOut.get(i).close();
    base.close();
  }

  @Override
  protected String resourceName() {
    return "the process group's store";
  }
}
