package io.ckpt4j.distributed;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Groups gradients into buckets for one all-reduce each, as Python's
 * {@code compute_bucket_assignment_by_size} does in outline (not bound by the presets): in the
 * order given, one open bucket per dtype, closed once it holds {@code capBytes} or more.
 *
 * <p>Thread safety: stateless.
 */
final class GradientBuckets {
  private GradientBuckets() {}

  /** The buckets, in the order they were closed (then the open ones, by first dtype seen). */
  static List<List<Tensor>> assign(List<Tensor> grads, long capBytes) {
    List<List<Tensor>> closed = new ArrayList<>();
    Map<Byte, List<Tensor>> open = new LinkedHashMap<>();
    Map<Byte, Long> openBytes = new LinkedHashMap<>();
    for (Tensor g : grads) {
      byte dtype = g.scalar_type().value;
      List<Tensor> bucket = open.computeIfAbsent(dtype, k -> new ArrayList<>());
      bucket.add(g);
      long bytes = openBytes.merge(dtype, Math.multiplyExact(g.numel(), g.element_size()),
          Math::addExact);
      if (bytes >= capBytes) {
        closed.add(bucket);
        open.remove(dtype);
        openBytes.remove(dtype);
      }
    }
    closed.addAll(open.values());
    return closed;
  }
}
