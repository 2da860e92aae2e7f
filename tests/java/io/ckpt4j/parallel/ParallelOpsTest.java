package io.ckpt4j.parallel;

import static io.ckpt4j.parallel.DataParallelTest.assertOneLine;
import static io.ckpt4j.parallel.ParallelFixtures.chunk;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The native scatter, gather and broadcast against torch.chunk / torch.cat as Python ran them. */
class ParallelOpsTest {
  @Test
  void scatterIsTorchChunkAndGatherIsTorchCat() throws Exception {
    int cases = 0;
    for (JsonNode c : ParallelFixtures.manifest().get("chunk_cases")) {
      String name = c.get("name").asText();
      int k = c.get("chunks").asInt();
      long dim = c.get("dim").asLong();
      List<Long> sizes = new ArrayList<>();
      c.get("sizes").forEach(s -> sizes.add(s.asLong()));
      List<Tensor> chunks = ParallelOps.scatter(chunk(name + ".input"), Collections.nCopies(k,
          "cpu"), dim);
      try {
        assertEquals(sizes.size(), chunks.size(), name + ": number of chunks");
        for (int i = 0; i < chunks.size(); i++) {
          Tensor expected = chunk(name + "." + i);
          assertArrayEquals(ModuleState.shape(expected), ModuleState.shape(chunks.get(i)),
              name + " chunk " + i);
          assertTrue(torch.equal(expected, chunks.get(i)), name + " chunk " + i);
        }
        try (Tensor gathered = ParallelOps.gather(chunks, "cpu", dim)) {
          assertTrue(torch.equal(chunk(name + ".cat"), gathered), name + ": gathered");
        }
      } finally {
        ParallelOps.closeAll(chunks);
      }
      cases++;
    }
    assertTrue(cases > 0);
  }

  @Test
  void scalarsAreGatheredIntoAVectorAsPythonsGatherDoes() throws Exception {
    int n = (int) ParallelFixtures.manifest().get("scalars").asLong();
    List<Tensor> scalars = new ArrayList<>();
    for (int i = 0; i < n; i++) scalars.add(chunk("scalars." + i));
    try (Tensor gathered = ParallelOps.gather(scalars, "cpu", 0)) {
      assertTrue(torch.equal(chunk("scalars.gathered"), gathered));
    }
  }

  @Test
  void broadcastHandsTheFirstSameDeviceTheOriginalsAndCopiesTheRest() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Tensor a = torch.randn(3, 2).requires_grad_(true);
      Tensor b = torch.arange(new Scalar(4));
      List<List<Tensor>> copies = ParallelOps.replicate(List.of(a, b, a),
          List.of("cpu", "cpu", "cpu"));
      assertEquals(3, copies.size());
      assertEquals(a.data_ptr().address(), copies.get(0).get(0).data_ptr().address());
      assertEquals(b.data_ptr().address(), copies.get(0).get(1).data_ptr().address());
      for (int d = 1; d < 3; d++) {
        List<Tensor> mine = copies.get(d);
        assertNotEquals(a.data_ptr().address(), mine.get(0).data_ptr().address(), "a copy");
        assertNotEquals(b.data_ptr().address(), mine.get(1).data_ptr().address(), "a copy");
        assertEquals(mine.get(0).data_ptr().address(), mine.get(2).data_ptr().address(),
            "a tensor listed twice is copied once per device");
        assertTrue(torch.equal(a, mine.get(0)) && torch.equal(b, mine.get(1)));
        assertTrue(mine.get(0).requires_grad(), "a copy of a tensor requiring grad is tracked");
        assertFalse(mine.get(1).requires_grad());
      }
      // Gradients flow from every copy back to the original.
      copies.get(1).get(0).sum().add(copies.get(2).get(0).mul(new Scalar(2))
          .sum()).backward();
      assertTrue(torch.equal(a.grad(), torch.full(new long[] {3, 2},
          new Scalar(3.0))));
    }
  }

  @Test
  void badArgumentsAreRefusedInOneLine() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = torch.randn(4, 3);
      assertOneLine(assertThrows(IllegalArgumentException.class,
          () -> ParallelOps.scatter(x, List.of(), 0)).getMessage(), "no device");
      assertOneLine(assertThrows(IllegalArgumentException.class,
          () -> ParallelOps.scatter(x, List.of("cpu", "xla:0"), 0)).getMessage(), "xla:0");
      assertOneLine(assertThrows(IllegalArgumentException.class,
          () -> ParallelOps.scatter(x, List.of("cpu"), 2)).getMessage(), "out of range");
      assertOneLine(assertThrows(IllegalArgumentException.class,
          () -> ParallelOps.scatter(torch.randn(new long[0]), List.of("cpu"), 0)).getMessage(),
          "0-dim");
      assertOneLine(assertThrows(IllegalArgumentException.class,
          () -> ParallelOps.gather(List.of(), "cpu", 0)).getMessage(), "no tensor");
      CheckpointException mismatch = Refusals.assertRefused(Kind.NATIVE,
          () -> ParallelOps.gather(List.of(torch.randn(2, 3), torch.randn(2, 4)), "cpu", 0));
      assertOneLine(mismatch.getMessage(), "gather on cpu");
    }
  }
}
