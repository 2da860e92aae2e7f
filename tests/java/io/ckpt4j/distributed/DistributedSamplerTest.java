package io.ckpt4j.distributed;

import static io.ckpt4j.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java's DistributedSampler against torch.utils.data.DistributedSampler, run by
 * tests/python/dist_peer.py at test time: every rank's indices, for shuffled and ordered
 * datasets, padding (shorter and longer than the dataset), drop_last, seeds and epochs.
 */
class DistributedSamplerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** size, world, shuffle, drop_last, seed, epoch. */
  private record Case(long size, int world, boolean shuffle, boolean dropLast, long seed,
      long epoch) {}

  private static final List<Case> CASES = List.of(
      new Case(10, 3, true, false, 0, 0),
      new Case(10, 3, true, true, 0, 1),
      new Case(10, 3, false, false, 0, 0),
      new Case(10, 3, false, true, 0, 0),
      new Case(2, 5, false, false, 0, 0),      // padding longer than the dataset
      new Case(2, 5, true, false, 7, 3),
      new Case(3, 5, true, true, 0, 0),        // drop_last leaves nothing
      new Case(0, 2, true, false, 0, 0),
      new Case(12, 4, true, true, 0, 0),       // divides evenly: drop_last drops nothing
      new Case(100, 4, true, false, 42, 5),
      new Case(1000, 7, true, true, 123, 2),
      new Case(17, 2, true, false, -5, 2),     // a negative seed + epoch
      new Case(50_000, 3, true, false, 2026, 9));

  @TempDir Path dir;

  @Test
  @Timeout(120)
  void everyRanksIndicesAreTorchs() throws Exception {
    ArrayNode cases = JSON.createArrayNode();
    for (Case c : CASES) {
      cases.addObject().put("size", c.size()).put("world", c.world()).put("shuffle", c.shuffle())
          .put("drop_last", c.dropLast()).put("seed", c.seed()).put("epoch", c.epoch());
    }
    Path out = dir.resolve("sampler.json");
    JsonNode python = JSON.readTree(
        Ranks.finish(Ranks.python(out, "sampler", JSON.writeValueAsString(cases)), out));
    assertEquals(CASES.size(), python.size());
    for (int i = 0; i < CASES.size(); i++) {
      Case c = CASES.get(i);
      for (int r = 0; r < c.world(); r++) {
        DistributedSampler s =
            new DistributedSampler(c.size(), c.world(), r, c.shuffle(), c.seed(), c.dropLast());
        s.setEpoch(c.epoch());
        JsonNode want = python.get(i).get(r);
        long[] expected = new long[want.size()];
        for (int k = 0; k < expected.length; k++) expected[k] = want.get(k).asLong();
        assertEquals(expected.length, s.numSamples(), c + " rank " + r + ": len(sampler)");
        assertArrayEquals(expected, s.indices(), c + " rank " + r);
      }
    }
  }

  @Test
  void pythonsValueErrorsAreRefusals() throws Exception {
    assertRefused(Kind.INVALID_VALUE, () -> new DistributedSampler(10, 2, 2, true, 0, false));
    assertRefused(Kind.INVALID_VALUE, () -> new DistributedSampler(10, 0, 0, true, 0, false));
    assertRefused(Kind.INVALID_VALUE, () -> new DistributedSampler(-1, 2, 0, true, 0, false));
    // The interval the message names, applied.
    assertEquals(5, new DistributedSampler(10, 2, 1, true, 0, false).indices().length);
  }
}
