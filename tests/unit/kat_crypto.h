/* SPDX-License-Identifier: MIT */
/*
 * kat_crypto.h - published known-answer vectors, as hex strings, each
 * with the document it comes from, and kat_unhex() to decode them.  Used
 * by test_crypto_kat.c and test_crypto_api.c.  Nothing here was produced
 * by atx.
 */
#ifndef ATX_KAT_CRYPTO_H
#define ATX_KAT_CRYPTO_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "atx.h"

/* Decode a vector's hex string into a new buffer (one spare byte, so "" gives a pointer). */
static inline uint8_t *kat_unhex(const char *h, size_t *len)
{
	size_t n = strlen(h) / 2;
	uint8_t *b = malloc(n + 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

struct kat_cipher {
	const char *source;
	enum atx_cipher_alg alg;
	const char *key, *iv, *pt, *ct;
};

struct kat_hash {
	const char *source;
	enum atx_hash_alg alg;
	const char *msg;                /* ASCII */
	unsigned repeat;                /* msg repeated this many times (0 = 1) */
	const char *md;
};

struct kat_mac {
	const char *source;
	enum atx_mac_alg alg;
	const char *key, *msg, *mac;    /* mac may be truncated: digest_len = its length */
};

struct kat_aead {
	const char *source;
	enum atx_aead_alg alg;
	const char *key, *iv, *aad, *pt, *ct, *tag;
};

/* NIST SP 800-38A appendix F: the four-block example message. */
#define SP800_38A_PT \
	"6bc1bee22e409f96e93d7e117393172a" "ae2d8a571e03ac9c9eb76fac45af8e51" \
	"30c81c46a35ce411e5fbc1191a0a52ef" "f69f2445df4f9b17ad2b417be66c3710"
#define SP800_38A_K128 "2b7e151628aed2a6abf7158809cf4f3c"
#define SP800_38A_K256 "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"

/* "Ladies and Gentlemen of the class of '99: ..." (RFC 8439 2.4.2 / 2.8.2) */
#define RFC8439_SUNSCREEN \
	"4c616469657320616e642047656e746c656d656e206f662074686520636c6173" \
	"73206f66202739393a204966204920636f756c64206f6666657220796f75206f" \
	"6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73" \
	"637265656e20776f756c642062652069742e"

/* IEEE 1619-2007 annex B: 0x00..0xff twice (vectors 4-14). */
#define IEEE1619_PT256 \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" \
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" \
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f" \
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f" \
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" \
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" \
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
#define IEEE1619_PT512 IEEE1619_PT256 IEEE1619_PT256

static const struct kat_cipher kat_ciphers[] = {
	{ "NIST SP 800-38A F.1.1 ECB-AES128.Encrypt", ATX_CIPHER_AES_ECB, SP800_38A_K128, "",
	  SP800_38A_PT,
	  "3ad77bb40d7a3660a89ecaf32466ef97" "f5d3d58503b9699de785895a96fdbaaf"
	  "43b1cd7f598ece23881b00e3ed030688" "7b0c785e27e8ad3f8223207104725dd4" },
	{ "NIST SP 800-38A F.1.5 ECB-AES256.Encrypt", ATX_CIPHER_AES_ECB, SP800_38A_K256, "",
	  SP800_38A_PT,
	  "f3eed1bdb5d2a03c064b5a7e3db181f8" "591ccb10d410ed26dc5ba74a31362870"
	  "b6ed21b99ca6f4f9f153e7b1beafed1d" "23304b7a39f9f3ff067d8d8f9e24ecc7" },
	{ "NIST SP 800-38A F.2.1 CBC-AES128.Encrypt", ATX_CIPHER_AES_CBC, SP800_38A_K128,
	  "000102030405060708090a0b0c0d0e0f", SP800_38A_PT,
	  "7649abac8119b246cee98e9b12e9197d" "5086cb9b507219ee95db113a917678b2"
	  "73bed6b8e3c1743b7116e69e22229516" "3ff1caa1681fac09120eca307586e1a7" },
	{ "NIST SP 800-38A F.2.5 CBC-AES256.Encrypt", ATX_CIPHER_AES_CBC, SP800_38A_K256,
	  "000102030405060708090a0b0c0d0e0f", SP800_38A_PT,
	  "f58c4c04d6e5f1ba779eabfb5f7bfbd6" "9cfc4e967edb808d679f777bc6702c7d"
	  "39f23369a9d9bacfa530e26304231461" "b2eb05e2c39be9fcda6c19078c6a9d1b" },
	{ "NIST SP 800-38A F.5.1 CTR-AES128.Encrypt", ATX_CIPHER_AES_CTR, SP800_38A_K128,
	  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", SP800_38A_PT,
	  "874d6191b620e3261bef6864990db6ce" "9806f66b7970fdff8617187bb9fffdff"
	  "5ae4df3edbd5d35e5b4f09020db03eab" "1e031dda2fbe03d1792170a0f3009cee" },
	{ "NIST SP 800-38A F.5.5 CTR-AES256.Encrypt", ATX_CIPHER_AES_CTR, SP800_38A_K256,
	  "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", SP800_38A_PT,
	  "601ec313775789a5b7a7f504bbf3d228" "f443e3ca4d62b59aca84e990cacaf5c5"
	  "2b0930daa23de94ce87017ba2d84988d" "dfc9c58db67aada613c2dd08457941a6" },
	/* IEEE 1619-2007 annex B.  The IV is the data unit sequence number,
	 * little-endian, as a 16-byte tweak.  (Vector 1 has equal key halves,
	 * which OpenSSL and atx refuse: see test_alg.c.) */
	{ "IEEE 1619-2007 XTS-AES-128 vector 2", ATX_CIPHER_AES_XTS,
	  "11111111111111111111111111111111" "22222222222222222222222222222222",
	  "33333333330000000000000000000000",
	  "4444444444444444444444444444444444444444444444444444444444444444",
	  "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0" },
	{ "IEEE 1619-2007 XTS-AES-128 vector 3", ATX_CIPHER_AES_XTS,
	  "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" "22222222222222222222222222222222",
	  "33333333330000000000000000000000",
	  "4444444444444444444444444444444444444444444444444444444444444444",
	  "af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89" },
	{ "IEEE 1619-2007 XTS-AES-128 vector 4", ATX_CIPHER_AES_XTS,
	  "27182818284590452353602874713526" "31415926535897932384626433832795",
	  "00000000000000000000000000000000", IEEE1619_PT512,
	  "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c"
	  "c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412"
	  "328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce"
	  "93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265"
	  "5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8"
	  "a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434"
	  "1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c"
	  "5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e"
	  "94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc"
	  "1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3"
	  "e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344"
	  "b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd"
	  "74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752"
	  "afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e"
	  "bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d"
	  "eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568" },
	{ "IEEE 1619-2007 XTS-AES-256 vector 10", ATX_CIPHER_AES_XTS,
	  "2718281828459045235360287471352662497757247093699959574966967627"
	  "3141592653589793238462643383279502884197169399375105820974944592",
	  "ff000000000000000000000000000000", IEEE1619_PT512,
	  "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b"
	  "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd"
	  "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0"
	  "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca"
	  "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0"
	  "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f"
	  "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec"
	  "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a"
	  "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1"
	  "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae"
	  "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29"
	  "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac"
	  "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f"
	  "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385"
	  "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa"
	  "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151" },
	{ "IEEE 1619-2007 XTS-AES-128 vector 15 (ciphertext stealing, 17 bytes)", ATX_CIPHER_AES_XTS,
	  "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" "bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0",
	  "9a785634120000000000000000000000",
	  "000102030405060708090a0b0c0d0e0f10",
	  "6c1625db4671522d3d7599601de7ca09ed" },
	/* RFC 8439 2.4.2; OpenSSL's 16-byte IV is the 32-bit block counter
	 * (little-endian, here 1) followed by the 96-bit nonce. */
	{ "RFC 8439 2.4.2 ChaCha20 encryption", ATX_CIPHER_CHACHA20,
	  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "01000000" "000000000000004a00000000", RFC8439_SUNSCREEN,
	  "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
	  "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
	  "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
	  "5af90bbf74a35be6b40b8eedf2785e42874d" },
	/* NIST SP 800-67 rev.1 appendix B.1 (a TDEA ECB example).  With a
	 * zero IV a one-block CBC encryption is the ECB encryption of that
	 * block, so each block is its own CBC vector. */
	{ "NIST SP 800-67 B.1 TDEA block 1 (CBC, zero IV)", ATX_CIPHER_3DES_CBC,
	  "0123456789abcdef23456789abcdef01456789abcdef0123", "0000000000000000",
	  "5468652071756663", "a826fd8ce53b855f" },
	{ "NIST SP 800-67 B.1 TDEA block 2 (CBC, zero IV)", ATX_CIPHER_3DES_CBC,
	  "0123456789abcdef23456789abcdef01456789abcdef0123", "0000000000000000",
	  "6b2062726f776e20", "cce21c8112256fe6" },
	{ "NIST SP 800-67 B.1 TDEA block 3 (CBC, zero IV)", ATX_CIPHER_3DES_CBC,
	  "0123456789abcdef23456789abcdef01456789abcdef0123", "0000000000000000",
	  "666f78206a756d70", "68d5c05dd9b6b900" },
};

#define FIPS180_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

static const struct kat_hash kat_hashes[] = {
	{ "FIPS 180-4 example SHA-1 \"abc\"", ATX_HASH_SHA1, "abc", 0,
	  "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "FIPS 180-4 example SHA-1 448-bit message", ATX_HASH_SHA1, FIPS180_448, 0,
	  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ "FIPS 180-4 example SHA-1 one million 'a'", ATX_HASH_SHA1, "a", 1000000,
	  "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
	{ "FIPS 180-4 example SHA-224 \"abc\"", ATX_HASH_SHA224, "abc", 0,
	  "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7" },
	{ "FIPS 180-4 example SHA-224 448-bit message", ATX_HASH_SHA224, FIPS180_448, 0,
	  "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525" },
	{ "FIPS 180-4 example SHA-256 \"abc\"", ATX_HASH_SHA256, "abc", 0,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "FIPS 180-4 example SHA-256 448-bit message", ATX_HASH_SHA256, FIPS180_448, 0,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "FIPS 180-4 example SHA-256 one million 'a'", ATX_HASH_SHA256, "a", 1000000,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	{ "FIPS 180-4 example SHA-384 \"abc\"", ATX_HASH_SHA384, "abc", 0,
	  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
	  "8086072ba1e7cc2358baeca134c825a7" },
	{ "FIPS 180-4 example SHA-512 \"abc\"", ATX_HASH_SHA512, "abc", 0,
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	{ "FIPS 202 example SHA3-256 \"abc\"", ATX_HASH_SHA3_256, "abc", 0,
	  "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532" },
	{ "FIPS 202 example SHA3-256 \"\"", ATX_HASH_SHA3_256, "", 0,
	  "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a" },
	{ "SHA-256 of the empty message (FIPS 180-4)", ATX_HASH_SHA256, "", 0,
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
};

#define HI_THERE "4869205468657265"
#define JEFE_MSG "7768617420646f2079612077616e7420666f72206e6f7468696e673f"
#define KEY_0B20 "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"

static const struct kat_mac kat_macs[] = {
	{ "RFC 2202 HMAC-SHA-1 test case 1", ATX_MAC_HMAC_SHA1, KEY_0B20, HI_THERE,
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "RFC 2202 HMAC-SHA-1 test case 2", ATX_MAC_HMAC_SHA1, "4a656665", JEFE_MSG,
	  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "RFC 4231 4.2 HMAC-SHA-224 test case 1", ATX_MAC_HMAC_SHA224, KEY_0B20, HI_THERE,
	  "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22" },
	{ "RFC 4231 4.2 HMAC-SHA-256 test case 1", ATX_MAC_HMAC_SHA256, KEY_0B20, HI_THERE,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "RFC 4231 4.2 HMAC-SHA-384 test case 1", ATX_MAC_HMAC_SHA384, KEY_0B20, HI_THERE,
	  "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	  "faea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "RFC 4231 4.2 HMAC-SHA-512 test case 1", ATX_MAC_HMAC_SHA512, KEY_0B20, HI_THERE,
	  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "RFC 4231 4.3 HMAC-SHA-256 test case 2", ATX_MAC_HMAC_SHA256, "4a656665", JEFE_MSG,
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "RFC 4231 4.3 HMAC-SHA-512 test case 2", ATX_MAC_HMAC_SHA512, "4a656665", JEFE_MSG,
	  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "RFC 4231 4.6 HMAC-SHA-256 test case 5 (truncated to 128 bits)", ATX_MAC_HMAC_SHA256,
	  "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
	  "546573742057697468205472756e636174696f6e",
	  "a3b6167473100ee06e0c796c2955552b" },
	{ "RFC 4493 4 AES-CMAC example 1 (empty)", ATX_MAC_AES_CMAC, SP800_38A_K128, "",
	  "bb1d6929e95937287fa37d129b756746" },
	{ "RFC 4493 4 AES-CMAC example 2 (16 bytes)", ATX_MAC_AES_CMAC, SP800_38A_K128,
	  "6bc1bee22e409f96e93d7e117393172a", "070a16b46b4d4144f79bdd9dd04a287c" },
	{ "RFC 4493 4 AES-CMAC example 4 (64 bytes)", ATX_MAC_AES_CMAC, SP800_38A_K128,
	  SP800_38A_PT, "51f0bebf7e3b9d92fc49741779363cfe" },
	{ "NIST SP 800-38B D.3 CMAC-AES256 example 9 (empty)", ATX_MAC_AES_CMAC, SP800_38A_K256,
	  "", "028962f61b7bf89efc6b551f4667d983" },
	{ "NIST SP 800-38B D.3 CMAC-AES256 example 10 (16 bytes)", ATX_MAC_AES_CMAC,
	  SP800_38A_K256, "6bc1bee22e409f96e93d7e117393172a", "28a7023f452e8f82bd4bf28d8c37c35c" },
};

/* McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases. */
#define GCM_K "feffe9928665731c6d6a8f9467308308"
/* Test cases 4-6 and 16-18 take the first 60 bytes of the 64 of cases 3 and 15. */
#define GCM_P60 \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_P64 GCM_P60 "1aafd255"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"

static const struct kat_aead kat_aeads[] = {
	{ "GCM spec test case 2", ATX_AEAD_AES_GCM, "00000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000",
	  "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf" },
	{ "GCM spec test case 3", ATX_AEAD_AES_GCM, GCM_K, "cafebabefacedbaddecaf888", "",
	  GCM_P64,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	  "4d5c2af327cd64a62cf35abd2ba6fab4" },
	{ "GCM spec test case 4", ATX_AEAD_AES_GCM, GCM_K, "cafebabefacedbaddecaf888", GCM_A,
	  GCM_P60,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ "GCM spec test case 5 (64-bit IV)", ATX_AEAD_AES_GCM, GCM_K, "cafebabefacedbad", GCM_A,
	  GCM_P60,
	  "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
	  "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
	  "3612d2e79e3b0785561be14aaca2fccb" },
	{ "GCM spec test case 14", ATX_AEAD_AES_GCM,
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM spec test case 15", ATX_AEAD_AES_GCM, GCM_K GCM_K, "cafebabefacedbaddecaf888", "",
	  GCM_P64,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "GCM spec test case 16", ATX_AEAD_AES_GCM, GCM_K GCM_K, "cafebabefacedbaddecaf888",
	  GCM_A, GCM_P60,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ "GCM spec test case 1 (empty)", ATX_AEAD_AES_GCM, "00000000000000000000000000000000",
	  "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
	{ "RFC 3610 8 packet vector #1 (AES-CCM, M=8, L=2)", ATX_AEAD_AES_CCM,
	  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000003020100a0a1a2a3a4a5", "0001020304050607",
	  "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
	  "588c979a61c663d2f066d0c2c0f989806d5f6b61dac384", "17e8d12cfdf926e0" },
	{ "RFC 3610 8 packet vector #2 (AES-CCM, M=8, L=2)", ATX_AEAD_AES_CCM,
	  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", "00000004030201a0a1a2a3a4a5", "0001020304050607",
	  "08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3b", "a091d56e10400916" },
	{ "RFC 8439 2.8.2 AEAD_CHACHA20_POLY1305", ATX_AEAD_CHACHA20_POLY1305,
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	  "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7", RFC8439_SUNSCREEN,
	  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	  "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	  "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	  "3ff4def08e4b7a9de576d26586cec64b6116",
	  "1ae10b594f09e26a7e902ecbd0600691" },
};

#endif /* ATX_KAT_CRYPTO_H */
