package io.ckpt4j.distributed;

import static io.ckpt4j.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * init_process_group's arguments and the collectives' argument checks, on groups of one rank
 * (no peer needed): each refusal is one line of the right kind, and its hint, applied, succeeds.
 */
@Timeout(60)
class DistributedOptionsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static ProcessGroup alone() throws CheckpointException {
    return Distributed.init(DistributedOptions.tcp(Ranks.LOOPBACK, 0, 0, 1).withTimeout(TIMEOUT));
  }

  @Test
  void theTorchrunEnvironmentIsRead() throws Exception {
    Map<String, String> env = new HashMap<>(Map.of("MASTER_ADDR", Ranks.LOOPBACK,
        "MASTER_PORT", "0", "RANK", "0"));
    CheckpointException e = assertRefused(Kind.INVALID_VALUE,
        () -> DistributedOptions.fromEnvironment(env));
    assertTrue(e.getMessage().contains("WORLD_SIZE is not set"), e.getMessage());
    env.put("WORLD_SIZE", "one");
    assertRefused(Kind.INVALID_VALUE, () -> DistributedOptions.fromEnvironment(env));
    env.put("WORLD_SIZE", "1"); // the hint applied: every variable set
    DistributedOptions o = DistributedOptions.fromEnvironment(env);
    assertEquals(0, o.localRank(), "LOCAL_RANK defaults to RANK");
    env.put("LOCAL_RANK", "3");
    assertEquals(3, DistributedOptions.fromEnvironment(env).localRank());
    try (ProcessGroup g = Distributed.init(o.withTimeout(TIMEOUT))) {
      assertEquals(0, g.rank());
      assertEquals(1, g.worldSize());
      assertEquals("gloo", g.backend());
      assertNotEquals(0, g.masterPort(), "rank 0 picked a free port");
      g.barrier();
    }
  }

  @Test
  void ranksWorldSizesAndPortsAreChecked() throws Exception {
    assertRefused(Kind.INVALID_VALUE, () -> DistributedOptions.tcp(Ranks.LOOPBACK, 0, 2, 2));
    assertRefused(Kind.INVALID_VALUE, () -> DistributedOptions.tcp(Ranks.LOOPBACK, 0, 0, 0));
    assertRefused(Kind.INVALID_VALUE, () -> DistributedOptions.tcp(Ranks.LOOPBACK, 70000, 0, 1));
    // The hints applied: a rank in [0, WORLD_SIZE), a world size of 1 or more, a port in range.
    DistributedOptions.tcp(Ranks.LOOPBACK, 0, 1, 2);
    try (ProcessGroup g = alone()) {
      g.barrier();
    }
    assertThrows(IllegalArgumentException.class,
        () -> DistributedOptions.tcp(Ranks.LOOPBACK, 0, 0, 1).withTimeout(Duration.ZERO));
  }

  @Test
  void ncclIsRefusedOnThisBuildAndGlooRuns() throws Exception {
    DistributedOptions nccl = DistributedOptions.tcp(Ranks.LOOPBACK, 0, 0, 1)
        .withBackend(DistributedOptions.NCCL);
    CheckpointException e = assertRefused(Kind.DEVICE, () -> Distributed.init(nccl));
    assertTrue(e.getMessage().contains("use backend gloo"), e.getMessage());
    assertRefused(Kind.INVALID_VALUE, () -> Distributed.init(nccl.withBackend("mpi")));
    try (ProcessGroup g = Distributed.init(nccl.withBackend(DistributedOptions.GLOO))) {
      assertEquals("gloo", g.backend());
    }
  }

  @Test
  void collectiveArgumentsAreCheckedAndTheHintsWork() throws Exception {
    try (ProcessGroup g = alone();
        Tensor ints = CollectiveCases.tensor(CollectiveCases.input(0), ScalarType.Long);
        Tensor floats = CollectiveCases.tensor(CollectiveCases.input(0), ScalarType.Float);
        Tensor transposed = floats.t()) {
      CheckpointException e =
          assertRefused(Kind.INVALID_VALUE, () -> g.allReduce(ints, ReduceOp.AVG));
      assertTrue(e.getMessage().contains("use SUM and divide"), e.getMessage());
      g.allReduce(ints, ReduceOp.SUM); // the hint applied (a world of one: the sum is the input)
      assertArrayEquals(CollectiveCases.input(0), CollectiveCases.values(ints), 0);

      e = assertRefused(Kind.INVALID_VALUE, () -> g.allReduce(transposed, ReduceOp.MAX));
      assertTrue(e.getMessage().contains("call .contiguous() first"), e.getMessage());
      try (Tensor contiguous = transposed.contiguous()) {
        g.allReduce(contiguous, ReduceOp.MAX);
      }

      e = assertRefused(Kind.INVALID_VALUE, () -> g.broadcast(floats, 1));
      assertTrue(e.getMessage().contains("give one in [0, 1)"), e.getMessage());
      g.broadcast(floats, 0);

      assertRefused(Kind.INVALID_VALUE, () -> g.allGather(List.of(), floats));
      assertRefused(Kind.INVALID_VALUE, () -> g.allGather(List.of(ints), floats));
      try (Tensor out = CollectiveCases.tensor(new double[6], ScalarType.Float)) {
        g.allGather(List.of(out), floats); // one output per rank, the input's shape and dtype
        assertArrayEquals(CollectiveCases.input(0), CollectiveCases.values(out), 0);
      }
    }
  }

  @Test
  void aGroupMadeInsideAPointerScopeOutlivesIt() throws Exception {
    ProcessGroup g;
    try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
      g = alone();
    }
    try (g; Tensor t = CollectiveCases.tensor(CollectiveCases.input(0), ScalarType.Double)) {
      g.allReduce(t, ReduceOp.SUM);
      g.barrier();
      assertArrayEquals(CollectiveCases.input(0), CollectiveCases.values(t), 0);
    }
  }

  @Test
  void closeIsDestroyProcessGroupAndHarmlessTwice() throws Exception {
    ProcessGroup g = alone();
    g.close();
    g.close();
    assertTrue(g.isClosed());
    assertThrows(IllegalStateException.class, g::barrier);
  }
}
