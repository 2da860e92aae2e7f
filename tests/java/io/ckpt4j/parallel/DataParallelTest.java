package io.ckpt4j.parallel;

import static io.ckpt4j.parallel.ParallelFixtures.assertClose;
import static io.ckpt4j.parallel.ParallelFixtures.atol;
import static io.ckpt4j.parallel.ParallelFixtures.io;
import static io.ckpt4j.parallel.ParallelFixtures.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.nn.TorchModel;
import io.ckpt4j.statedict.StateDict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DataParallel over a model built in Java (the Java-thread path), on CPU replicas standing in for
 * GPUs, against what tests/python/make_parallel.py computed with torch.
 */
class DataParallelTest {
  /** Batch sizes: 1 and 2 are shorter than 3 devices; 5 and 7 divide by neither 2 nor 3. */
  private static final long[] BATCHES = {1, 2, 5, 7};
  private static final long LATCH_SECONDS = 30;

  static DataParallelOptions cpus(int k) {
    return DataParallelOptions.defaults().deviceIds(Collections.nCopies(k, "cpu"));
  }

  @ParameterizedTest(name = "{0} CPU replica(s)")
  @ValueSource(ints = {1, 2, 3})
  void outputsAreThoseOfPythonAndOfTheUnwrappedModel(int k) throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(k));
        NoGradGuard noGrad = new NoGradGuard()) {
      assertEquals(Collections.nCopies(k, "cpu"), dp.deviceIds());
      assertEquals("cpu", dp.outputDevice());
      for (long n : BATCHES) {
        Tensor x = rows(io("input"), n);
        try (Tensor y = dp.forward(x); Tensor plain = net.forward(x)) {
          String what = k + " replicas, " + n + " rows";
          assertClose(rows(io("output"), n), y, atol(), what + " vs Python");
          assertClose(plain, y, atol(), what + " vs the unwrapped model");
        }
      }
    }
  }

  @Test
  void aShortBatchRunsFewerReplicasWithTorchChunkSizes() throws Exception {
    // torch.chunk(7 rows, 3) = 3, 3, 1; (5, 4) = 2, 2, 1 (3 replicas of 4); (2, 3) = 1, 1.
    long[][] cases = {{7, 3, 3, 3, 1}, {5, 4, 2, 2, 1}, {2, 3, 1, 1}, {1, 2, 1}};
    for (long[] c : cases) {
      Recorder recorder = new Recorder(ParallelFixtures.model());
      Supplier<Recorder> factory = () -> {
        Recorder replica = new Recorder(new SmallNet());
        recorder.replicas.add(replica);
        return replica;
      };
      try (DataParallel<Recorder> dp = DataParallel.of(recorder, factory, cpus((int) c[1]));
          NoGradGuard noGrad = new NoGradGuard();
          Tensor y = dp.forward(rows(io("input"), c[0]))) {
        List<Long> expected = new ArrayList<>();
        for (int i = 2; i < c.length; i++) expected.add(c[i]);
        List<Long> seen = new ArrayList<>(recorder.rowsSeen());
        for (Recorder r : recorder.replicas) seen.addAll(r.rowsSeen());
        assertEquals(expected, seen, c[0] + " rows over " + c[1] + " devices");
        assertEquals(c[0], y.size(0));
      }
    }
  }

  @Test
  void replicasRunAtOnceEachOnItsOwnThread() throws Exception {
    int k = 3;
    CountDownLatch allIn = new CountDownLatch(k);
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    List<Boolean> met = Collections.synchronizedList(new ArrayList<>());
    class Meeting implements TorchModel {
      final SmallNet net;

      Meeting(SmallNet net) {
        this.net = net;
      }

      @Override
      public Module module() {
        return net.module();
      }

      @Override
      public Tensor forward(Tensor input) {
        threads.add(Thread.currentThread());
        allIn.countDown();
        try {
          // Only replicas that run at the same time can all get past this.
          met.add(allIn.await(LATCH_SECONDS, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        return net.forward(input);
      }
    }
    try (DataParallel<Meeting> dp = DataParallel.of(new Meeting(ParallelFixtures.model()),
            () -> new Meeting(new SmallNet()), cpus(k));
        NoGradGuard noGrad = new NoGradGuard();
        Tensor y = dp.forward(io("input"))) {
      assertEquals(List.of(true, true, true), met);
      assertEquals(k, threads.size());
      assertTrue(threads.contains(Thread.currentThread()), "replica 0 runs on the caller");
      assertClose(io("output"), y, atol(), "output");
    }
  }

  @Test
  void stateDictKeysAreThoseOfPythonsDataParallel() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2));
        StateDict wrapped = StateDict.of(dp);
        StateDict plain = StateDict.of(dp.module().module())) {
      assertSame(net, dp.module());
      assertEquals(ParallelFixtures.strings("data_parallel_keys"), List.copyOf(wrapped.keys()));
      assertEquals(ParallelFixtures.strings("state_dict_keys"), List.copyOf(plain.keys()));
      for (String key : plain.keys()) {
        Tensor python = ParallelFixtures.tensors("weights.safetensors").get(key);
        assertTrue(torch.equal(python, wrapped.get(StateDict.DATA_PARALLEL_PREFIX + key)), key);
      }
    }
  }

  @Test
  void itsStateDictIsWhatPythonSavesForADataParallelModel() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2));
        StateDict ours = StateDict.of(dp);
        LoadedCheckpoint saved = CheckpointLoader.load(
            ParallelFixtures.dir().resolve("data_parallel.pt"), LoadOptions.defaults());
        StateDict python = StateDict.from(saved)) {
      assertEquals(List.copyOf(python.keys()), List.copyOf(ours.keys()));
      for (String key : python.keys()) {
        assertTrue(torch.equal(python.get(key), ours.get(key)), key);
      }
    }
  }

  @Test
  void gradientsOfEveryReplicaReachTheWrappedModelAsInPython() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(3))) {
      // Twice: the second forward repoints the replicas at new copies.
      for (int round = 0; round < 2; round++) {
        try (PointerScope scope = new PointerScope()) {
          net.module().zero_grad(true);
          Tensor x = io("input").clone().requires_grad_(true);
          Tensor y = dp.forward(x);
          assertTrue(y.requires_grad(), "the gathered output is part of the graph");
          y.mul(io("loss_weight")).sum().backward();
          try (StringTensorDict params = net.module().named_parameters(true)) {
            for (String name : ParallelFixtures.strings("parameters")) {
              Tensor grad = params.get(name).grad();
              assertTrue(grad.defined(), name + " has a gradient");
              assertClose(io("grad." + name), grad, atol(), "round " + round + ": grad of " + name);
            }
          }
          assertClose(io("grad.input"), x.grad(), atol(), "round " + round + ": grad of the input");
        }
      }
    }
  }

  @Test
  void trainingModeNormalizesPerReplicaAndOnlyReplicaZeroMovesTheStatistics() throws Exception {
    SmallNet net = ParallelFixtures.model();
    int k = (int) ParallelFixtures.manifest().get("train_replicas").asLong();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(k));
        NoGradGuard noGrad = new NoGradGuard()) {
      dp.train(true);
      assertTrue(net.module().is_training(), "train() reaches the wrapped model");
      try (Tensor y = dp.forward(io("input"))) {
        assertClose(io("train.output"), y, atol(), "training-mode output");
      }
      try (StringTensorDict buffers = net.module().named_buffers(true)) {
        for (String name : ParallelFixtures.strings("buffers")) {
          assertClose(io("train." + name), buffers.get(name), atol(), name + " after the forward");
        }
      }
      dp.eval();
      assertFalse(net.module().is_training(), "eval() reaches the wrapped model");
    }
  }

  @Test
  void gradModeOfTheCallerHoldsOnEveryReplicaThread() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(3))) {
      try (NoGradGuard noGrad = new NoGradGuard(); Tensor y = dp.forward(io("input"))) {
        assertFalse(y.requires_grad());
      }
      try (Tensor y = dp.forward(io("input"))) {
        assertTrue(y.requires_grad());
      }
    }
  }

  @Test
  void inferenceModeOfTheCallerHoldsOnEveryReplicaThread() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(3));
        InferenceMode inference = new InferenceMode()) {
      for (int round = 0; round < 2; round++) {
        try (Tensor y = dp.forward(io("input"))) {
          assertTrue(y.is_inference(), "computed in inference mode");
          assertClose(io("output"), y, atol(), "round " + round);
        }
      }
    }
  }

  @Test
  void badDeviceListsAreRefusedInOneLine() {
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> DataParallelOptions.defaults().deviceIds(List.of()));
    assertOneLine(empty.getMessage(), "device_ids is empty");
    for (String bad : List.of("tpu:0", "cpu:1", "cuda:x", "", "gpu")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> DataParallelOptions.defaults().deviceIds("cpu", bad), bad);
      assertOneLine(e.getMessage(), "unknown device '" + bad + "'");
    }
    assertThrows(IllegalArgumentException.class,
        () -> DataParallelOptions.defaults().outputDevice("npu"));
  }

  @Test
  void aCudaDeviceThatDoesNotExistIsACheckpointException() throws Exception {
    long count = io.ckpt4j.tensor.Devices.cudaDeviceCount();
    String missing = "cuda:" + count;
    SmallNet net = ParallelFixtures.model();
    CheckpointException e = Refusals.assertRefused(Kind.DEVICE, () -> DataParallel.of(net,
        SmallNet::new, DataParallelOptions.defaults().deviceIds("cpu", missing)));
    assertOneLine(e.getMessage(), missing);
    assertTrue(e.getMessage().endsWith(": use cpu, or a visible CUDA device"), e.getMessage());
    // The hint, applied.
    DataParallel.of(net, SmallNet::new, DataParallelOptions.defaults().deviceIds("cpu")).close();
  }

  @Test
  void theDefaultDevicesAreTheVisibleCudaDevicesOrTheCpu() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new)) {
      long count = io.ckpt4j.tensor.Devices.cudaDeviceCount();
      List<String> expected = new ArrayList<>();
      for (long i = 0; i < count; i++) expected.add("cuda:" + i);
      if (count == 0) expected.add("cpu");
      assertEquals(expected, dp.deviceIds());
      assertEquals(expected.get(0), dp.outputDevice());
    }
  }

  @Test
  void aFactoryOfAnotherArchitectureIsRefused() throws Exception {
    SmallNet net = ParallelFixtures.model();
    class Other implements TorchModel {
      final LinearImpl fc = new LinearImpl(2, 2);

      @Override
      public Module module() {
        return fc;
      }

      @Override
      public Tensor forward(Tensor input) {
        return fc.forward(input);
      }
    }
    TorchModel wrapped = net;
    try (DataParallel<TorchModel> dp = DataParallel.of(wrapped, Other::new, cpus(2));
        NoGradGuard noGrad = new NoGradGuard()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> dp.forward(io("input")));
      assertOneLine(e.getMessage(), "different architecture");
      assertTrue(e.getMessage().endsWith("the factory must build the wrapped model's"
          + " architecture"), e.getMessage());
    }
    try (DataParallel<SmallNet> dp = DataParallel.of(net, () -> net, cpus(2));
        NoGradGuard noGrad = new NoGradGuard()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> dp.forward(io("input")));
      assertOneLine(e.getMessage(), "the wrapped model itself");
      assertTrue(e.getMessage().endsWith("it must build a new model of the same architecture"
          + " (e.g. MyNet::new)"), e.getMessage());
    }
    // Both hints, applied: a factory of new models of the wrapped model's architecture.
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2));
        NoGradGuard noGrad = new NoGradGuard(); Tensor y = dp.forward(io("input"))) {
      assertClose(io("output"), y, atol(), "with a factory of new models");
    }
  }

  @Test
  void aFailingReplicaIsReportedWithItsNumberAndDevice() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2));
        NoGradGuard noGrad = new NoGradGuard();
        Tensor wrongChannels = torch.randn(4, 2, SmallNet.SIDE, SmallNet.SIDE)) {
      CheckpointException e = Refusals.assertRefused(Kind.NATIVE,
          () -> dp.forward(wrongChannels));
      assertOneLine(e.getMessage(), "replica 0 on cpu failed");
      assertNotNull(e.getCause());
      // The wrapper still works afterwards.
      try (Tensor y = dp.forward(io("input"))) {
        assertClose(io("output"), y, atol(), "after a failure");
      }
    }
  }

  @Test
  void aModelOffTheFirstDeviceIsRefusedAsPythonDoes() throws Exception {
    SmallNet net = new SmallNet();
    try (Device meta = new Device("meta"); TensorOptions onMeta = new TensorOptions(meta)) {
      net.module().register_buffer("elsewhere", torch.empty(new long[] {1}, onMeta, null));
    }
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2))) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> dp.forward(io("input")));
      assertOneLine(e.getMessage(), "elsewhere is on meta");
    }
  }

  @Test
  void badInputsAreIllegalArguments() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2));
        Tensor scalar = torch.ones(new long[0])) {
      assertOneLine(assertThrows(IllegalArgumentException.class, () -> dp.forward(scalar))
          .getMessage(), "0-dim");
    }
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new, cpus(2).dim(4))) {
      assertOneLine(assertThrows(IllegalArgumentException.class,
          () -> dp.forward(io("input"))).getMessage(), "dim 4 is out of range");
    }
    DataParallel<SmallNet> closed = DataParallel.of(net, SmallNet::new, cpus(2));
    closed.close();
    closed.close(); // a second close is harmless
    assertThrows(IllegalStateException.class, () -> closed.forward(io("input")));
  }

  static void assertOneLine(String message, String expectedPart) {
    assertNotNull(message);
    assertFalse(message.contains("\n"), "one line: " + message);
    assertTrue(message.contains(expectedPart), "'" + expectedPart + "' in: " + message);
  }

  /** A SmallNet that records the rows of every batch its forward sees, and its replicas. */
  static final class Recorder implements TorchModel {
    final SmallNet net;
    final List<Recorder> replicas = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> rows = Collections.synchronizedList(new ArrayList<>());

    Recorder(SmallNet net) {
      this.net = net;
    }

    List<Long> rowsSeen() {
      return rows;
    }

    @Override
    public Module module() {
      return net.module();
    }

    @Override
    public Tensor forward(Tensor input) {
      rows.add(input.size(0));
      return net.forward(input);
    }
  }
}
