/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/libtern_shared_test.c - an application linked against the shared libtern only:
 * the public API is enough to frame, decode and encode, and internal symbols stay hidden.
 *
 * Owns: nothing. Thread: the test's only.
 */
#include "tn_test.h"

#include <dlfcn.h>

#include "tern/codec.h"

/* [MQTT-3.3.1-4] is the codec's business; here we only check the shared library answers. */
TN_TEST(shared_lib_round_trips_a_publish)
{
    struct tern_packet p = {.type = TERN_PUBLISH};
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 7;
    p.u.publish.topic = TERN_SLICE_STR("home/temperature");
    p.u.publish.payload = TERN_SLICE_STR("21.5");
    uint8_t buf[64];
    int n = tern_packet_encode(&p, TERN_V311, buf, sizeof buf);
    TN_REQUIRE(n > 0);
    struct tern_frame f;
    uint8_t rc = 0;
    TN_EXPECT_EQ_INT(tern_frame_peek(buf, (size_t)n, 0, &f, &rc), 1);
    TN_EXPECT_EQ_U32(f.size, (uint32_t)n);
    struct tern_packet d;
    TN_REQUIRE(tern_packet_decode(buf, (size_t)n, TERN_V311, &d, &rc) == 0);
    TN_EXPECT_SLICE_STR(d.u.publish.topic, "home/temperature");
    TN_EXPECT_SLICE_STR(d.u.publish.payload, "21.5");
    TN_EXPECT_EQ_U32(d.u.publish.packet_id, 7);
}

TN_TEST(shared_lib_hides_internal_symbols)
{
    void *self = dlopen(NULL, RTLD_NOW);
    TN_REQUIRE(self != NULL);
    TN_EXPECT(dlsym(self, "tern_packet_decode") != NULL);
    TN_EXPECT(dlsym(self, "tn_utf8_topic_scan") == NULL);
    TN_EXPECT(dlsym(self, "tn_props_encode_body") == NULL);
    dlclose(self);
}

TN_TEST_MAIN()
