package domain

// ClassMischarge is a period whose declaration in force charged work injury at another rate
// than the payer's risk class on the period's first day gives, as the ledger now knows it: a
// change of class recorded after the declaration and dated on or before the period. The
// declaration stands as recorded (events are never rewritten); filing it again (an amendment)
// charges the class in force.
type ClassMischarge struct {
	Period Period
	// Class is the payer's risk class on the period's first day; DueFen what the declared wage
	// base owes at it; ChargedFen what the declaration charged.
	Class      int
	DueFen     Fen
	ChargedFen Fen
}

// ClassMischarges lists, oldest period first, the periods from from on whose declaration in
// force on asOf charged work injury at another risk class than the payer had on the period's
// first day: what it charged is what the declared base owes at another class's rate, not at
// this one's (a rate table recorded since for the period, which charges no class as declared, is
// not listed). It reads the views' employer (its History); from is the first period of the open
// books: a closing folds the lines before it with their charge.
func (e *Employer) ClassMischarges(ref *Reference, asOf Date, from Period) []ClassMischarge {
	if !e.classChanged() {
		return nil
	}
	var out []ClassMischarge
	decls := e.History.Declarations
	for i, d := range decls {
		// The declaration in force on asOf: the last of its period dated on or before it.
		if d.On > asOf || (i+1 < len(decls) && decls[i+1].Period == d.Period && decls[i+1].On <= asOf) {
			continue
		}
		first := d.Period.FirstDay()
		if d.Period < from {
			continue
		}
		base, ok := workInjuryBase(d)
		set := e.Account.baseOn(d.Period, asOf)
		if !ok || set == nil || set.date != d.On {
			continue // an assessment replaced it
		}
		charged, ok := set.amountOf(LineKey{d.Period, WorkInjury})
		if !ok {
			continue
		}
		class := e.RiskClassOn(first)
		bp, ok := ref.Rate(WorkInjury, e.Kind.Payer(), class, first)
		if !ok {
			continue
		}
		if due, err := ApplyRate(base, bp); err == nil && due != charged && chargedAtAnother(ref, e.Kind.Payer(), class, first, base, charged) {
			out = append(out, ClassMischarge{Period: d.Period, Class: class, DueFen: due, ChargedFen: charged})
		}
	}
	return out
}

// chargedAtAnother reports whether charged is what base owes at the rate of a risk class other
// than class on day d.
func chargedAtAnother(ref *Reference, payer PayerClass, class int, d Date, base, charged Fen) bool {
	for c := 1; c <= 3; c++ {
		if bp, ok := ref.Rate(WorkInjury, payer, c, d); ok && c != class {
			if due, err := ApplyRate(base, bp); err == nil && due == charged {
				return true
			}
		}
	}
	return false
}

// classChanged reports whether a change of registration facts was recorded (a closing folds the
// changes it passes into Entered): without one, every declaration charged the class the payer
// registered with.
func (e *Employer) classChanged() bool { return e.History.Entered != nil }

// workInjuryBase is the wage base d declared for work injury, if it has such a line.
func workInjuryBase(d Declared) (Fen, bool) {
	for _, l := range d.Lines {
		if l.Insurance.canonical() == WorkInjury {
			return l.WageBaseFen, true
		}
	}
	return 0, false
}

// amountOf is the amount en sets on line k, if it has the line.
func (en *entry) amountOf(k LineKey) (Fen, bool) {
	for _, l := range en.lines {
		if l.key == k {
			return l.amount, true
		}
	}
	return 0, false
}
