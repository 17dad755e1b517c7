/*
 * testkeys.h -- the fuzzers' private keys.  TEST KEYS ONLY: made for this
 * file, published with it, never to be used for any real domain.
 */
#ifndef TESTKEYS_H
#define TESTKEYS_H

static const char testkey_rsa[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALDqvnB1ATzcFOWY\n"
    "GBDOoFopKi0tJGd8XEcSrFg3eRXjuCvSO114Ign9NjR8Sn/CMvpge74ETCfiQGP3\n"
    "o6naw6GDW5L6/xvug2TS9I3pmbgOESfFt8DbPb9/Aca6w7IoS/TR/0fzO6l/yLQ5\n"
    "eHyQC0Udj/OnLYR0fT+aYDGhSt85AgMBAAECgYAci2N6pYYzmZbNjIKlg5EfuvCR\n"
    "JW1wPQJufTbNbPXecEVw3JSzegST9ATg5wTmJCExgIu2lt7quHiHKJeBekiB6+1j\n"
    "qCG0MHtqLwXvr66xQstkQNJQJdV1dTt0aA1nxxJUsF/3ms1wKp396PmRjgBC4rOc\n"
    "iB170uXavlYVfn4G+QJBAOLUmkHMKQo6eInjUuhbNL033GM9b7vcMn3L2Vlv8aqI\n"
    "2qB4pVHbifQIoN9TPjtMDrcA8fElGXtXNir9FeO9uyMCQQDHqvVMEwgk1tPrUm+Z\n"
    "UwU9qI7UWXbWtg/eeJAV5G/b/HAr5KsupEarH3/8E6dqDnSlceynmmhZaqhY2fw0\n"
    "Yx/zAkAPh6zUCm1Y5O3xyt2XSP9QYS22obMvsoDGehl0dSSfn2UQjZIMC7LjQV/6\n"
    "SlG9b5SmVOs7rmWTO0JbKR7Bi/DvAkEArIQg938GLVZUumF6vT5HK/QknINEM9YQ\n"
    "tgbzb4b1w1xEyxgDdARKbvaDjZipsPAWhxB9Cn9WI9QM6uBFkjoHUwJANA6ZBVY9\n"
    "R0qA5xfsZejKjbaZEHbZNZHAavzo0jcCidieq8vSnUquulVl8aJIIHvrgQKpmMSJ\n"
    "QcLw3QyDsGz2ag==\n"
    "-----END PRIVATE KEY-----\n"
    ;

static const char testkey_ed25519[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIDbMQ640KKKLoVQUpEB9Z5OLxdXPqaI1Xm1Z4pd8dZJZ\n"
    "-----END PRIVATE KEY-----\n"
    ;

#endif
