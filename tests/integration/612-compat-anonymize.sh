#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix anonymize (flow-models anonymize, issue 18): Crypto-PAn of sa3/da3 for IPv4 records,
# other families dropped.  Expected addresses: the Crypto-PAn reference implementation's sample
# (key 21 34 23 141 ... 34 2: 128.11.68.132 -> 135.242.180.132, 129.118.74.4 ->
# 134.136.186.123, 130.132.252.244 -> 133.68.164.234); byte-identical to flow-models'
# anonymize on 2000 flows when FLOW_MODELS_DIR is set (and its python has 'cryptography').
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
key=$(printf '\025\042\027\215\063\244\317\200\023\012\133\026\111\220\175\020\330\230\217\203\171\171\145\047\142\127\114\055\052\204\042\002')
ip() { echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }
{
    printf '2, 6, 0, 0, 0, 0, 0, %s, 0, 0, 0, %s, 1, 2, 100, 0, 100, 0, 1, 64, 1\n' \
        "$(ip 128 11 68 132)" "$(ip 129 118 74 4)"
    printf '10, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 100, 0, 100, 0, 1, 64, 1\n'
    printf '0, 17, 0, 0, 0, 0, 0, %s, 0, 0, 0, %s, 1, 2, 100, 0, 100, 0, 1, 64, 1\n' \
        "$(ip 130 132 252 244)" "$(ip 128 11 68 132)"
} > "$fm_tmp/v.csv"
"$FLOWMIX" anonymize -i csv_flow --key "$key" "$fm_tmp/v.csv" > "$fm_tmp/out.csv" ||
    fail "anonymize"
want="$(ip 135 242 180 132) $(ip 134 136 186 123)
$(ip 133 68 164 234) $(ip 135 242 180 132)"
got=$(awk -F', ' '{print $8, $12}' "$fm_tmp/out.csv")
[ "$got" = "$want" ] || fail "got $got, want $want"
[ "$(cut -d, -f1 "$fm_tmp/out.csv" | tr -d ' ' | tr '\n' ' ')" = "2 0 " ] ||
    fail "af 10 not dropped: $(cat "$fm_tmp/out.csv")"
st=0; "$FLOWMIX" anonymize -i csv_flow --key short "$fm_tmp/v.csv" 2> "$fm_tmp/err" || st=$?
[ "$st" = 2 ] && [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "short key: exit $st"

if [ -n "${FLOW_MODELS_DIR:-}" ] && /usr/bin/env python3 -c 'import cryptography' 2>/dev/null; then
    "$FLOWMIX" send -q --synthetic 2000 --seed 5 --dump "$fm_tmp/syn.csv" 127.0.0.1:9
    k=boojahyoo3vaeToong0Eijee7Ahz3yee
    (cd "$FLOW_MODELS_DIR" && python3 -m flow_models.anonymize -i csv_flow --key $k \
        "$fm_tmp/syn.csv" 2>/dev/null) > "$fm_tmp/fm.csv" || fail "flow-models anonymize"
    "$FLOWMIX" anonymize -i csv_flow --key $k "$fm_tmp/syn.csv" > "$fm_tmp/fx.csv"
    cmp -s "$fm_tmp/fm.csv" "$fm_tmp/fx.csv" || fail "differs from flow-models' anonymize"
    echo "flow-models anonymize: identical on $(wc -l < "$fm_tmp/fx.csv") flows"
fi
exit 0
