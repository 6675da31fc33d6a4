/*
 * A fresh private key and a self-signed certificate for a guest service
 * (rules_examples/base/bootstrap_fs.lua, templates in config/ssl/): the rule
 * sandbox has no io and no os.execute, and no key may ever be committed, so
 * the key is made here with OpenSSL's libcrypto, at first use.
 *
 * c_make_cert{ key=PATH, cert=PATH, subject="/C=US/O=x/CN=y", days=N,
 *              key_type="rsa:2048" | "ec:prime256v1" | "ed25519",
 *              san="DNS:router.local,IP:127.0.0.1" }
 *   -> true, or nil, -errno, message
 *   PATH are guest paths (inside the rootfs under the true root: on an
 *   sfemu-mount they land in the upper layer); their directories must
 *   exist.  key == cert writes one file holding the key, then the
 *   certificate.  The key file is mode 0600, a separate certificate 0644.
 *   Each file is written under a temporary name and renamed into place, so
 *   a reader never sees half of it.  Nothing of the key is ever logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/api.h"
#include "core/sandbox.h"
#include "trueroot/guestfs.h"

struct cert_req {
    const char *key_path, *cert_path, *subject, *key_type, *san;
    long days;
};

/* A failure: nil, the guest's -errno and a message. */
static int push_err(lua_State *L, int rc, const char *msg)
{
    lua_pushnil(L);
    lua_pushinteger(L, sfemu_api_neg_errno(-rc));
    lua_pushstring(L, msg);
    return 3;
}

static EVP_PKEY *make_key(const char *type)
{
    char curve[64];
    unsigned bits;

    if (sscanf(type, "rsa:%u", &bits) == 1 && bits >= 1024 && bits <= 8192) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    }
    if (sscanf(type, "ec:%63s", curve) == 1) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    }
    if (strcmp(type, "ed25519") == 0) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    return NULL;
}

/* "/C=US/O=Vendor/CN=router" into name; 0, or -EINVAL (a part without
 * "FIELD=", a field OpenSSL does not know, no part at all). */
static int parse_subject(const char *subject, X509_NAME *name)
{
    char *copy = strdup(subject), *save = NULL, *part;
    int rc = copy ? 0 : -ENOMEM;

    for (part = copy ? strtok_r(copy, "/", &save) : NULL; part && !rc;
         part = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(part, '=');

        if (!eq || eq == part) {
            rc = -EINVAL;
            break;
        }
        *eq = '\0'; /* part: the field, eq + 1: its value */
        if (!X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8,
                                        (unsigned char *)eq + 1, -1, -1, 0)) {
            rc = -EINVAL;
        }
    }
    free(copy);
    return rc || X509_NAME_entry_count(name) == 0 ? -EINVAL : 0;
}

static X509 *make_cert(EVP_PKEY *key, const struct cert_req *r,
                       const char **why)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = x && name && RAND_bytes(serial, sizeof(serial)) == 1;

    *why = "cannot build the certificate";
    serial[0] &= 0x7f; /* a positive serial number */
    ok = ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) &&
         BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
         X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
         X509_gmtime_adj(X509_getm_notAfter(x), r->days * 86400L);
    if (ok && parse_subject(r->subject, name) < 0) {
        *why = "bad subject (expected /FIELD=value/...)";
        ok = 0;
    }
    ok = ok && X509_set_subject_name(x, name) &&
         X509_set_issuer_name(x, name) && X509_set_pubkey(x, key);
    if (ok && r->san && r->san[0]) {
        X509V3_CTX ctx;
        X509_EXTENSION *ext;

        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, r->san);
        ok = ext && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        if (!ok) {
            *why = "bad san (expected DNS:name,IP:address)";
        }
    }
    /* Ed25519 signs without a separate digest */
    ok = ok &&
         X509_sign(x, key,
                   EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL
                                                            : EVP_sha256()) > 0;
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes the memory BIO's bytes to the guest path, through a temporary
 * name in the same directory; 0 or -errno. */
static int write_file(const char *gpath, BIO *bio, mode_t mode)
{
    const char *slash = strrchr(gpath, '/');
    char dir[4096], tmp[300];
    const char *name = slash ? slash + 1 : gpath;
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    int dfd, fd, rc = 0;

    if (!slash || !*name || (size_t)(slash - gpath) >= sizeof(dir) ||
        strlen(name) > 200) {
        return -EINVAL;
    }
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - gpath), gpath);
    dfd = sfemu_guestfs_open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY, 0);
    if (dfd < 0) {
        return dfd;
    }
    snprintf(tmp, sizeof(tmp), ".%s.sfemu-%d", name, (int)getpid());
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = -errno;
    }
    for (long off = 0; fd >= 0 && off < len && !rc;) {
        ssize_t n = write(fd, data + off, (size_t)(len - off));

        if (n < 0 && errno != EINTR) {
            rc = -errno;
        }
        off += n > 0 ? n : 0;
    }
    if (fd >= 0 && close(fd) < 0 && !rc) {
        rc = -errno;
    }
    if (fd >= 0 && !rc && renameat(dfd, tmp, dfd, name) < 0) {
        rc = -errno;
    }
    if (fd >= 0 && rc) {
        unlinkat(dfd, tmp, 0);
    }
    close(dfd);
    return rc;
}

static int c_make_cert(lua_State *L)
{
    struct cert_req r;
    EVP_PKEY *key;
    X509 *x = NULL;
    BIO *kb = NULL, *cb = NULL;
    const char *why = NULL;
    int rc = 0, one_file;

    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "key");
    lua_getfield(L, 1, "cert");
    lua_getfield(L, 1, "subject");
    lua_getfield(L, 1, "key_type");
    lua_getfield(L, 1, "san");
    lua_getfield(L, 1, "days");
    r.key_path = luaL_checkstring(L, 2);
    r.cert_path = luaL_checkstring(L, 3);
    r.subject = luaL_optstring(L, 4, "/O=SFEmu/CN=localhost");
    r.key_type = luaL_optstring(L, 5, "rsa:2048");
    r.san = luaL_optstring(L, 6, NULL);
    r.days = (long)luaL_optinteger(L, 7, 3650);
    if (r.days < 1 || r.days > 36500) {
        return push_err(L, -EINVAL, "days: expected 1 to 36500");
    }
    key = make_key(r.key_type);
    if (!key) {
        return push_err(L, -EINVAL,
                        "key_type: expected rsa:BITS, ec:CURVE or ed25519");
    }
    x = make_cert(key, &r, &why);
    one_file = strcmp(r.key_path, r.cert_path) == 0;
    kb = BIO_new(BIO_s_mem());
    cb = one_file ? kb : BIO_new(BIO_s_mem());
    if (!x || !kb || !cb ||
        !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cb, x)) {
        rc = -EINVAL;
        why = why ? why : "cannot encode the key or certificate";
    }
    if (!rc) {
        rc = write_file(r.key_path, kb, 0600);
        why = "cannot write the key file";
    }
    if (!rc && !one_file) {
        rc = write_file(r.cert_path, cb, 0644);
        why = "cannot write the certificate file";
    }
    if (cb != kb) {
        BIO_free(cb);
    }
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(key);
    if (rc) {
        return push_err(L, rc, why);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg cert_fns[] = {
    { "c_make_cert", c_make_cert },
    { NULL, NULL },
};

void sfemu_api_cert_open(lua_State *L)
{
    sfemu_sandbox_register(L, cert_fns);
}
