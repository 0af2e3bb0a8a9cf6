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

// ClassMischarges lists, oldest period first, the periods whose declaration in force on asOf
// charged work injury other than at the risk class the payer had on the period's first day.
// It reads the views' employer (its History); periods of closed years are not listed, as they
// can no longer be filed again.
func (e *Employer) ClassMischarges(ref *Reference, asOf Date) []ClassMischarge {
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
		if ref.BooksClosed(first) {
			continue // a closed year's period is filed again no more
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
		if due, err := ApplyRate(base, bp); err == nil && due != charged {
			out = append(out, ClassMischarge{Period: d.Period, Class: class, DueFen: due, ChargedFen: charged})
		}
	}
	return out
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
