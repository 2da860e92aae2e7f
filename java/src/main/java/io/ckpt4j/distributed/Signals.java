package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Small int64 messages between ranks over the group's collectives (flags, counts, offsets): the
 * coordination a distributed save needs, as {@code dcp.save} gathers its ranks' write results.
 * Every rank calls with arrays of the same length (the callers make the lengths a function of
 * what all ranks already agree on: a mismatch would abort a process from a Gloo thread).
 *
 * <p>Thread safety: stateless; the group serializes the collectives.
 */
final class Signals {
  private Signals() {}

  /** {@code dist.broadcast} of {@code values} from rank {@code src}: rank src's values. */
  static long[] broadcast(ProcessGroup group, long[] values, int src) throws CheckpointException {
    try (Tensor t = tensorOf(values)) {
      group.broadcast(t, src);
      return valuesOf(t, values.length);
    }
  }

  /** {@code dist.broadcast} of one value from rank {@code src}. */
  static long broadcast(ProcessGroup group, long value, int src) throws CheckpointException {
    return broadcast(group, new long[] {value}, src)[0];
  }

  /** {@code dist.all_gather} of {@code values}: row r is rank r's. */
  static long[][] allGather(ProcessGroup group, long[] values) throws CheckpointException {
    List<Tensor> outs = new ArrayList<>();
    try (Tensor mine = tensorOf(values)) {
      for (int r = 0; r < group.worldSize(); r++) outs.add(tensorOf(new long[values.length]));
      group.allGather(outs, mine);
      long[][] all = new long[outs.size()][];
      for (int r = 0; r < all.length; r++) all[r] = valuesOf(outs.get(r), values.length);
      return all;
    } finally {
      for (Tensor t : outs) t.close();
    }
  }

  private static Tensor tensorOf(long[] values) {
    try (TensorOptions int64 = new TensorOptions(torch.ScalarType.Long)) {
      Tensor t = torch.empty(new long[] {values.length}, int64, null);
      if (values.length > 0) {
        try (LongPointer data = t.data_ptr_long()) {
          data.capacity(values.length).put(values);
        }
      }
      return t;
    }
  }

  private static long[] valuesOf(Tensor t, int n) {
    long[] values = new long[n];
    if (n > 0) {
      try (LongPointer data = t.data_ptr_long()) {
        data.capacity(n).get(values);
      }
    }
    return values;
  }
}
