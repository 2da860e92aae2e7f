package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.aoti.AotiOptions;
import io.ckpt4j.aoti.ExportedModel;
import io.ckpt4j.checkpoint.Checkpoint;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.distributed.Distributed;
import io.ckpt4j.distributed.DistributedDataParallel;
import io.ckpt4j.distributed.DistributedOptions;
import io.ckpt4j.distributed.ProcessGroup;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.parallel.DataParallel;
import io.ckpt4j.parallel.DataParallelOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.tensor.TensorMaterializer;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ckpt4j's one ownership behaviour ({@link OwnedResource}): for every public type that owns
 * native memory, a second close is harmless and a use after close is an
 * {@link IllegalStateException} that names the object. ({@code ScriptModel}, which needs a
 * TorchScript file, is checked the same way in TorchScriptTest.)
 */
class OwnershipTest {
  /** Threads that race to close one object. */
  private static final int RACING_CLOSERS = 8;
  /** A narrow model: ownership does not depend on the width. */
  private static final long NARROW = 8;
  private static final long CLASSES = 10;

  @TempDir static Path dir;

  /**
   * One public owner: how to make it (the owner first, then what the test must close after it:
   * what it does not own), and one use of what close releases.
   */
  record Owner(String name, ThrowingSupplier<List<AutoCloseable>> make, Use use) {
    @Override
    public String toString() {
      return name;
    }
  }

  interface ThrowingSupplier<T> {
    T get() throws Exception;
  }

  interface Use {
    void on(AutoCloseable owner) throws Exception;
  }

  static Stream<Owner> owners() {
    return Stream.of(
        new Owner("LoadedCheckpoint", () -> List.of(loaded()),
            o -> ((LoadedCheckpoint) o).tensor((TensorRef) ((LoadedCheckpoint) o).root())),
        new Owner("TensorMaterializer", () -> List.of(materializer()),
            o -> ((TensorMaterializer) o).preloadAll()),
        new Owner("StateDict", OwnershipTest::stateDict,
            o -> ((StateDict) o).keys()),
        new Owner("Checkpoint", () -> List.of(Checkpoint.create().epoch(3)),
            o -> ((Checkpoint) o).keys()),
        new Owner("SGD", () -> List.of(sgd()), o -> ((SGD) o).step()),
        new Owner("OptimizerStateDict", () -> List.of(optimizerStateDict()),
            o -> ((OptimizerStateDict) o).toPython()),
        new Owner("ResNet", () -> List.of(ResNet.create("resnet18", CLASSES, NARROW)),
            o -> ((ResNet) o).module()),
        new Owner("DataParallel", OwnershipTest::dataParallel,
            o -> ((DataParallel<?>) o).forward(null)),
        new Owner("ProcessGroup", () -> List.of(processGroup()), o -> ((ProcessGroup) o).barrier()),
        new Owner("DistributedDataParallel", OwnershipTest::distributedDataParallel,
            o -> ((DistributedDataParallel<?>) o).synchronizeGradients()),
        new Owner("ExportedModel", () -> List.of(ExportedModel.load(
            TestData.dir("aoti").resolve("cnn.pt2"), AotiOptions.defaults())),
            o -> ((ExportedModel) o).forward(List.of())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("owners")
  void aSecondCloseIsHarmlessAndUseAfterCloseIsAnIllegalState(Owner owner) throws Exception {
    long openBefore = OwnedResource.openCount();
    List<AutoCloseable> made = owner.make().get();
    AutoCloseable o = made.get(0);
    assertFalse(isClosed(o), owner + " starts open");
    o.close();
    assertTrue(isClosed(o), owner + " is closed after close()");
    o.close(); // harmless
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> owner.use().on(o));
    assertTrue(e.getMessage().contains("is closed"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    for (AutoCloseable other : made.subList(1, made.size())) other.close();
    assertEquals(openBefore, OwnedResource.openCount(),
        owner + " left owned resources open after its close");
  }

  @Test
  void closeReleasesExactlyOnceWhenThreadsRace() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    OwnedResource owner = new OwnedResource() {
      @Override
      protected void releaseResources() {
        releases.incrementAndGet();
      }
    };
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < RACING_CLOSERS; i++) {
      Thread t = new Thread(() -> {
        try {
          start.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        owner.close();
      });
      t.start();
      threads.add(t);
    }
    start.countDown();
    for (Thread t : threads) t.join();
    assertEquals(1, releases.get());
    assertTrue(owner.isClosed());
  }

  @Test
  void aFailingReleaseLeavesTheObjectClosedAndIsNotRetried() {
    AtomicInteger releases = new AtomicInteger();
    OwnedResource owner = new OwnedResource() {
      @Override
      protected void releaseResources() {
        releases.incrementAndGet();
        throw new IllegalStateException("release failed");
      }

      @Override
      protected String resourceName() {
        return "the failing owner";
      }
    };
    assertThrows(IllegalStateException.class, owner::close);
    owner.close(); // not retried
    assertEquals(1, releases.get());
    assertTrue(owner.isClosed());
    OwnedResourceProbe probe = new OwnedResourceProbe();
    probe.close();
    IllegalStateException e = assertThrows(IllegalStateException.class, probe::use);
    assertTrue(e.getMessage().startsWith("the probe is closed"), e.getMessage());
  }

  /** A subclass that uses ensureOpen as a library class does. */
  private static final class OwnedResourceProbe extends OwnedResource {
    void use() {
      ensureOpen();
    }

    @Override
    protected void releaseResources() {}

    @Override
    protected String resourceName() {
      return "the probe";
    }
  }

  private static boolean isClosed(AutoCloseable o) {
    if (o instanceof DataParallel<?> dp) return dp.isClosed();
    if (o instanceof DistributedDataParallel<?> ddp) return ddp.isClosed();
    return ((OwnedResource) o).isClosed();
  }

  private static Path tensorFile() throws CheckpointException {
    Path file = dir.resolve("tensor.pt");
    try (Tensor t = torch.arange(new org.bytedeco.pytorch.Scalar(6))) {
      TorchSaver.save(file, t);
    }
    return file;
  }

  private static LoadedCheckpoint loaded() throws CheckpointException {
    return CheckpointLoader.load(tensorFile(), LoadOptions.defaults());
  }

  private static TensorMaterializer materializer() throws CheckpointException {
    try (LoadedCheckpoint file = loaded()) {
      return new TensorMaterializer(file.storages(), MapLocation.none(),
          TensorMaterializer.Mode.READ, 1);
    }
  }

  private static List<AutoCloseable> stateDict() {
    try (Tensor w = torch.ones(2)) {
      return List.of(StateDict.empty().put("w", w)); // the state_dict takes its own reference
    }
  }

  private static SGD sgd() {
    try (Tensor param = torch.ones(3)) {
      return new SGD(List.of(ParamGroup.of(List.of(param))), SGD.options()); // its own reference
    }
  }

  private static OptimizerStateDict optimizerStateDict() {
    try (SGD sgd = sgd()) {
      return sgd.stateDict();
    }
  }

  /** The wrapper and the model it wraps, which stays the caller's. */
  private static List<AutoCloseable> dataParallel() throws CheckpointException {
    ResNet model = ResNet.create("resnet18", CLASSES, NARROW);
    return List.of(DataParallel.of(model, () -> ResNet.create("resnet18", CLASSES, NARROW),
        DataParallelOptions.defaults().deviceIds("cpu", "cpu")), model);
  }

  /** A group of one rank (no peer needed), rank 0 hosting its store on a free loopback port. */
  private static ProcessGroup processGroup() throws CheckpointException {
    return Distributed.init(DistributedOptions.tcp("127.0.0.1", 0, 0, 1)
        .withTimeout(java.time.Duration.ofSeconds(20)));
  }

  /** The wrapper, then the model and the group, which stay the caller's. */
  private static List<AutoCloseable> distributedDataParallel() throws CheckpointException {
    ResNet model = ResNet.create("resnet18", CLASSES, NARROW);
    ProcessGroup group = processGroup();
    return List.of(DistributedDataParallel.of(model, group), model, group);
  }
}
