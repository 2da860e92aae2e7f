package io.ckpt4j.models;

import static io.ckpt4j.models.ResNetCases.LOGITS_TOLERANCE;
import static io.ckpt4j.models.ResNetCases.logits;
import static io.ckpt4j.models.ResNetCases.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNetCases.Case;
import io.ckpt4j.models.ResNetCases.InitStd;
import io.ckpt4j.models.ResNetCases.Io;
import io.ckpt4j.statedict.IncompatibleKeys;
import io.ckpt4j.statedict.LoadStateDictOptions;
import io.ckpt4j.statedict.StateDict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java ResNet against tests/python/make_resnet.py: torchvision's architecture in plain torch
 * (tests/python/reference_resnet.py), random weights with non-trivial BatchNorm statistics,
 * saved with {@code torch.save(model.state_dict())} and from {@code nn.DataParallel(model)},
 * and the logits Python computed on a fixed input.
 */
class ResNetTest {
  /** torchvision's init is random: a sample std within 5 standard errors of the true one. */
  private static final double INIT_STD_ERRORS = 5;
  private static final String AFTER_TRAIN = "after_train.";
  private static final int WARMUP_FORWARDS = 3;
  private static final int LOOP_FORWARDS = 10;
  /** A narrow model for tests of ownership, which does not depend on the width. */
  private static final long NARROW_WIDTH = 16;

  static List<Case> cases() {
    return ResNetCases.all();
  }

  /** Loads the case's weights into {@code model} through the StateDict API, strictly. */
  private static void loadStrictly(ResNet model, Case c) throws CheckpointException {
    try (LoadedCheckpoint file = CheckpointLoader.load(c.weights(),
            LoadOptions.defaults().mapLocation("cpu"));
        StateDict stateDict = StateDict.from(file)) {
      IncompatibleKeys keys =
          stateDict.loadInto(model.module(), LoadStateDictOptions.defaults());
      assertTrue(keys.isEmpty(), keys.toString());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void stateDictKeysAreTorchvisionsInTorchvisionsOrder(Case c) {
    try (ResNet model = c.build(); StateDict stateDict = StateDict.of(model.module())) {
      assertEquals(c.pythonKeys(), new ArrayList<>(stateDict.keys()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theModuleTreeIsTorchvisions(Case c) {
    // _metadata has one row per module, in Python's traversal order, with its class version
    // (2 for BatchNorm): the containers (layerN, layerN.I, downsample) are there as in Python.
    try (ResNet model = c.build(); StateDict stateDict = StateDict.of(model.module())) {
      List<String> rows = new ArrayList<>();
      ((Map<?, ?>) stateDict.metadata()).forEach((prefix, entry) ->
          rows.add(prefix + "=" + ((Map<?, ?>) entry).get("version")));
      assertEquals(c.pythonMetadataOfModulesWithState(), rows);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void pythonWeightsLoadStrictlyAndGivePythonsLogits(Case c) throws CheckpointException {
    long start = System.nanoTime();
    try (ResNet model = c.build(); Io io = new Io(c)) {
      loadStrictly(model, c);
      model.eval();
      assertFalse(model.isTraining());
      try (Tensor logits = logits(model, io.get("input"))) {
        double diff = maxAbsDiff(logits, io.get("logits"));
        System.out.printf("%s: eval logits max abs diff %.3g (%.1f s)%n", c, diff,
            (System.nanoTime() - start) / 1e9);
        assertTrue(diff <= LOGITS_TOLERANCE, c + ": logits differ from Python's by " + diff);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void aNewModelIsInitialisedAsTorchvisionInitialisesIt(Case c) {
    try (ResNet model = c.build(); StateDict stateDict = StateDict.of(model.module())) {
      assertTrue(model.isTraining(), "a new module is in training mode, as in Python");
      for (Map.Entry<String, InitStd> e : c.initStd().entrySet()) {
        double std;
        try (PointerScope scope = new PointerScope()) {
          std = stateDict.get(e.getKey()).std().item_double();
        }
        // The sample std of n normal draws has a standard error of about std / sqrt(2 n).
        InitStd expected = e.getValue();
        double bound = INIT_STD_ERRORS * expected.std() / Math.sqrt(2.0 * expected.numel());
        assertTrue(Math.abs(std - expected.std()) <= bound, c + " " + e.getKey() + ": sample std "
            + std + ", torchvision draws from std " + expected.std());
      }
    }
  }

  @Test
  void trainModeUsesBatchStatisticsAndUpdatesTheRunningOnes() throws CheckpointException {
    Case c = ResNetCases.named("resnet18");
    try (ResNet model = c.build(); Io io = new Io(c)) {
      loadStrictly(model, c);
      model.train(true);
      try (Tensor logits = logits(model, io.get("input"))) {
        double diff = maxAbsDiff(logits, io.get("train_logits"));
        System.out.printf("%s: train-mode logits max abs diff %.3g%n", c, diff);
        assertTrue(diff <= LOGITS_TOLERANCE, "train-mode logits differ by " + diff);
      }
      int buffers = 0;
      double worst = 0;
      try (StateDict after = StateDict.of(model.module())) {
        for (String name : io.names()) {
          if (!name.startsWith(AFTER_TRAIN)) continue;
          String key = name.substring(AFTER_TRAIN.length());
          Tensor expected = io.get(name);
          if (key.endsWith("num_batches_tracked")) {
            assertTrue(after.get(key).equal(expected), key);
          } else {
            double diff = maxAbsDiff(after.get(key), expected);
            worst = Math.max(worst, diff);
            assertTrue(diff <= LOGITS_TOLERANCE, key + " differs from Python's by " + diff);
          }
          buffers++;
        }
      }
      System.out.printf("%s: %d BatchNorm buffers after a train step, max abs diff %.3g%n", c,
          buffers, worst);
      assertEquals(c.pythonKeys().stream().filter(k -> k.contains("running_")
          || k.endsWith("num_batches_tracked")).count(), buffers);
    }
  }

  @Test
  void aDataParallelFileFailsStrictLoadingWithoutThePrefixFix() throws CheckpointException {
    Case c = ResNetCases.named("resnet18");
    try (ResNet model = c.build();
        LoadedCheckpoint file = CheckpointLoader.load(c.dataParallel(),
            LoadOptions.defaults().mapLocation("cpu"));
        StateDict stateDict = StateDict.from(file)) {
      // Python: Missing key(s) in state_dict: "conv1.weight", ... Unexpected key(s) in
      // state_dict: "module.conv1.weight", ...
      CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> stateDict.loadInto(model.module(), LoadStateDictOptions.defaults()));
      assertTrue(e.getMessage().contains("module.conv1.weight"), e.getMessage());
      IncompatibleKeys keys = stateDict.loadInto(model.module(),
          LoadStateDictOptions.defaults().strict(false));
      assertEquals(c.dataParallelIncompatible("missing_keys"), keys.missingKeys());
      assertEquals(c.dataParallelIncompatible("unexpected_keys"), keys.unexpectedKeys());
    }
  }

  @Test
  void unknownArchitecturesAndDevicesAreClearErrors() throws CheckpointException {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> ResNet.create("resnet19", 10).close());
    assertTrue(unknown.getMessage().contains("resnet152"), unknown.getMessage());
    CheckpointException e;
    long visible = torch.cuda_is_available() ? torch.cuda_device_count() : 0;
    try (ResNet model = ResNet.create("resnet18", 10, 8)) {
      e = Refusals.assertRefused(Kind.DEVICE, () -> model.to("cuda:" + visible));
      assertTrue(e.getMessage().contains("cuda:" + visible), e.getMessage());
      assertTrue(e.getMessage().endsWith(": use cpu"), e.getMessage());
      model.to("cpu"); // the hint, applied
      Refusals.assertRefused(Kind.DEVICE, () -> model.to("quantum"));
    }
  }

  @Test
  void aForwardLoopFreesWhatItAllocates() throws CheckpointException {
    Case c = ResNetCases.named("resnet18");
    try (ResNet model = c.build(); Io io = new Io(c); NoGradGuard noGrad = new NoGradGuard()) {
      model.eval();
      Tensor input = io.get("input");
      for (int i = 0; i < WARMUP_FORWARDS; i++) model.forward(input).close();
      long handles = Pointer.totalCount();
      long resident = Pointer.physicalBytes();
      for (int i = 0; i < LOOP_FORWARDS; i++) model.forward(input).close();
      for (int i = 0; i < LOOP_FORWARDS; i++) {
        try (PointerScope callersScope = new PointerScope()) {
          model.forward(input); // attached to the caller's scope, freed with it
        }
      }
      long growth = Pointer.physicalBytes() - resident;
      System.out.printf("%s: %d forwards, %d native handles before and %d after, resident"
          + " memory grew %d KiB%n", model, 2 * LOOP_FORWARDS, handles, Pointer.totalCount(),
          growth >> 10);
      assertTrue(Pointer.totalCount() <= handles, "forward leaks native handles");
      // Leaking one activation of the stem (conv1's output, N x width x H/2 x W/2 floats) per
      // forward would grow memory by twice this; memory that stays allocated (the allocator's
      // caches, the JVM's) by far less.
      long stemActivation = Float.BYTES * input.size(0) * model.width() * (input.size(2) / 2)
          * (input.size(3) / 2);
      assertTrue(growth < LOOP_FORWARDS * stemActivation,
          "resident memory grew by " + growth + " bytes over " + 2 * LOOP_FORWARDS + " forwards");
    }
  }

  @Test
  @SuppressWarnings("unchecked") // PointerScope(Class<? extends Pointer>...)
  void theLogitsBelongToTheCallersScopeOrToTheCaller() throws CheckpointException {
    Case c = ResNetCases.named("resnet18");
    try (ResNet model = ResNet.create(c.arch(), c.numClasses(), NARROW_WIDTH).eval();
        Io io = new Io(c); NoGradGuard noGrad = new NoGradGuard()) {
      Tensor input = io.get("input");
      Tensor inScope;
      try (PointerScope callersScope = new PointerScope()) {
        inScope = model.forward(input);
        assertEquals(c.numClasses(), inScope.size(1));
      }
      assertTrue(inScope.isNull(), "freed with the caller's scope");
      Tensor caller;
      try (PointerScope onlyForOtherClasses = new PointerScope(LongPointer.class)) {
        caller = model.forward(input);
      }
      assertFalse(caller.isNull(), "a scope that takes no tensors does not take the logits");
      assertEquals(c.numClasses(), caller.size(1));
      caller.close();
      assertTrue(caller.isNull(), "the caller's close frees it");
    }
  }

  @Test
  void aClosedModelRefusesWork() {
    ResNet model = ResNet.create("resnet18", 10, 8);
    model.close();
    model.close();
    assertThrows(IllegalStateException.class, model::module);
    assertThrows(IllegalStateException.class, model::eval);
  }
}
