/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A standalone librdkafka mock cluster for integration tests (tests/integration/220-*):
 * creates a cluster of N brokers in this process (rdkafka_mock.h), creates the topics named
 * on the command line, prints the bootstrap servers on one line of stdout and serves until
 * stdin reaches EOF or SIGTERM/SIGINT arrives.  Daemons connect to it like to a real cluster.
 *
 *     kafka_mock [-b BROKERS] [-p PARTITIONS] TOPIC...
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    int brokers = 1, partitions = 2, opt;
    char err[512];

    while ((opt = getopt(argc, argv, "b:p:")) != -1) {
        if (opt == 'b') {
            brokers = atoi(optarg);
        } else if (opt == 'p') {
            partitions = atoi(optarg);
        } else {
            fprintf(stderr, "usage: kafka_mock [-b BROKERS] [-p PARTITIONS] TOPIC...\n");
            return 2;
        }
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "kafka_mock: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = optind; i < argc; i++) {
        if (rd_kafka_mock_topic_create(mc, argv[i], partitions, 1)) {
            fprintf(stderr, "kafka_mock: cannot create topic %s\n", argv[i]);
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    /* Serve until stdin closes (the test script's end) or a signal. */
    while (!stop) {
        struct pollfd p = {.fd = 0, .events = POLLIN};
        char buf[256];
        if (poll(&p, 1, 200) > 0 && read(0, buf, sizeof(buf)) <= 0) {
            break;
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
