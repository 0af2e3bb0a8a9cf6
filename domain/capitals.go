package domain

import "strings"

var capitalDigits = [10]string{"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"}

// ChineseCapitals writes an amount in Chinese capitals (大写金额) as financial documents print
// it: 591.96 yuan → 伍佰玖拾壹元玖角陆分, 100.00 → 壹佰元整, 0.05 → 伍分, 1,000,005.00 →
// 壹佰万零伍元整, 0 → 零元整. A run of zeros inside the yuan is written as one 零, as is a zero
// jiao between yuan and fen; "整" follows an amount that ends at 元 or 角. A negative amount is
// prefixed 负.
func ChineseCapitals(f Fen) string {
	var b strings.Builder
	n := int64(f)
	if n < 0 {
		b.WriteString("负")
		n = -n
	}
	if n == 0 {
		return "零元整"
	}
	yuan, jiao, fen := n/100, n/10%10, n%10
	if yuan > 0 {
		b.WriteString(capitalsInt(yuan))
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && fen == 0:
		b.WriteString("整")
		return b.String()
	case jiao > 0:
		b.WriteString(capitalDigits[jiao] + "角")
	case yuan > 0:
		b.WriteString("零")
	}
	if fen > 0 {
		b.WriteString(capitalDigits[fen] + "分")
	} else {
		b.WriteString("整")
	}
	return b.String()
}

// capitalsInt writes n > 0 in capitals, by 亿 and 万 groups: a group under its full width after a
// higher non-zero group starts with 零.
func capitalsInt(n int64) string {
	for _, g := range []struct {
		unit string
		size int64
	}{{"亿", 100_000_000}, {"万", 10_000}} {
		if n >= g.size {
			s := capitalsInt(n/g.size) + g.unit
			if lo := n % g.size; lo > 0 {
				if lo < g.size/10 {
					s += "零"
				}
				s += capitalsInt(lo)
			}
			return s
		}
	}
	units := [4]string{"仟", "佰", "拾", ""}
	var b strings.Builder
	zero := false
	for i, div := 0, int64(1000); div > 0; i, div = i+1, div/10 {
		d := n / div % 10
		switch {
		case d == 0:
			zero = b.Len() > 0
		default:
			if zero {
				b.WriteString("零")
				zero = false
			}
			b.WriteString(capitalDigits[d] + units[i])
		}
	}
	return b.String()
}
