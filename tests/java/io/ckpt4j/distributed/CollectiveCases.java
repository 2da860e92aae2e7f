package io.ckpt4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The collectives every rank runs in the same order, Java's side of tests/python/dist_peer.py's
 * {@code collectives}: for each dtype, all_reduce SUM, AVG, MAX, MIN, broadcast from the last
 * rank, all_gather; then a barrier. Expected values are computed here in plain Java from the
 * ranks' inputs (rank r contributes 1..6 plus 10 r), never by a collective.
 */
final class CollectiveCases {
  static final List<ScalarType> DTYPES =
      List.of(ScalarType.Float, ScalarType.Double, ScalarType.Long, ScalarType.Int);
  private static final int ROWS = 2;
  private static final int COLS = 3;
  private static final int RANK_STRIDE = 10;

  private CollectiveCases() {}

  /** What rank {@code r} contributes, as plain numbers. */
  static double[] input(int r) {
    double[] v = new double[ROWS * COLS];
    for (int i = 0; i < v.length; i++) v[i] = i + 1 + RANK_STRIDE * r;
    return v;
  }

  static Tensor tensor(double[] values, ScalarType dtype) {
    try (Tensor d = AbstractTensor.create(values, ROWS, COLS)) {
      return d.to(dtype);
    }
  }

  static double[] values(Tensor t) {
    try (Tensor d = t.to(ScalarType.Double).contiguous().reshape(-1)) {
      double[] v = new double[(int) d.numel()];
      for (int i = 0; i < v.length; i++) {
        try (Tensor e = d.get(i)) {
          v[i] = e.item_double();
        }
      }
      return v;
    }
  }

  /** Runs the cases on {@code group}, asserting each result; returns how many were checked. */
  static int run(ProcessGroup group) throws Exception {
    int world = group.worldSize();
    int rank = group.rank();
    int checks = 0;
    for (ScalarType dtype : DTYPES) {
      boolean floating = dtype == ScalarType.Float || dtype == ScalarType.Double;
      double[] sum = new double[ROWS * COLS];
      for (int r = 0; r < world; r++) {
        double[] in = input(r);
        for (int i = 0; i < sum.length; i++) sum[i] += in[i];
      }
      checks += reduce(group, dtype, ReduceOp.SUM, sum);
      if (floating) {
        double[] avg = sum.clone();
        for (int i = 0; i < avg.length; i++) avg[i] /= world;
        checks += reduce(group, dtype, ReduceOp.AVG, avg);
      }
      checks += reduce(group, dtype, ReduceOp.MAX, input(world - 1));
      checks += reduce(group, dtype, ReduceOp.MIN, input(0));
      try (Tensor t = tensor(input(rank), dtype)) {
        group.broadcast(t, world - 1);
        assertArrayEquals(input(world - 1), values(t), 1e-6, dtype + " broadcast");
        checks++;
      }
      List<Tensor> outs = new ArrayList<>();
      try (Tensor mine = tensor(input(rank), dtype)) {
        for (int r = 0; r < world; r++) outs.add(tensor(new double[ROWS * COLS], dtype));
        group.allGather(outs, mine);
        for (int r = 0; r < world; r++) {
          assertArrayEquals(input(r), values(outs.get(r)), 1e-6, dtype + " allGather[" + r + "]");
          assertEquals(dtype.value, outs.get(r).scalar_type().value);
          checks++;
        }
      } finally {
        for (Tensor t : outs) t.close();
      }
    }
    group.barrier();
    return checks;
  }

  private static int reduce(ProcessGroup group, ScalarType dtype, ReduceOp op, double[] want)
      throws Exception {
    try (Tensor t = tensor(input(group.rank()), dtype)) {
      group.allReduce(t, op);
      assertArrayEquals(want, values(t), 1e-6, dtype + " allReduce " + op);
      assertEquals(dtype.value, t.scalar_type().value, "allReduce keeps the dtype");
      return 1;
    }
  }
}
