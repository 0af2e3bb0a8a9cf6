package domain_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// Every command's DateField is a field of its body, the one its business date is read from: a
// closing that refuses a command checked before it names the field a client sent.
func TestEveryCommandsDateFieldIsAFieldOfItsBody(t *testing.T) {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	for _, cmd := range []domain.Command{
		&domain.RecordAuditFinding{}, &domain.RecordEnforcement{}, &domain.FileDeclaration{}, &domain.MakeAssessment{},
		&domain.RecordOpeningBalance{}, &domain.RecordPayment{}, &domain.ReversePayment{}, &domain.GrantWaiver{},
		registration(""), registration("2006-05-01"), &domain.CompleteRegistration{},
		&domain.ChangeEmployer{}, &domain.RecordSurvey{}, &domain.RecordEnrollment{}, &domain.RecordContracts{},
		&domain.Transfer{}, &domain.Reinstate{}, &domain.Deregister{}, &domain.VoidEvent{}, &domain.RefundCredit{},
		&domain.RecordInspection{}, &domain.IssueNotice{}, &domain.CorrectOrgCode{},
	} {
		field := domain.DateField(cmd)
		v := jsonField(reflect.ValueOf(cmd).Elem(), field)
		if !v.IsValid() || v.Kind() != reflect.String {
			t.Errorf("%T: DateField %q is not a date field of its body", cmd, field)
			continue
		}
		v.SetString("2006-06-01")
		_ = cmd.Check(domain.Context{Ref: ref, Today: domain.MustDate("2006-12-31")})
		if got := cmd.Date(); got != domain.MustDate("2006-06-01") {
			t.Errorf("%T: its date read from %q is %v; want 2006-06-01", cmd, field, got)
		}
	}
}

// registration is a valid registration but for its date: of an employer found unregistered when
// foundOn is given.
func registration(foundOn string) *domain.RegisterEmployer {
	return &domain.RegisterEmployer{Name: "单位", County: "360702", OrgCode: domain.NumberedOrgCode(1), Kind: "enterprise", RiskClass: "1", FoundOn: foundOn}
}

// jsonField is the field of struct v, or of one it embeds, read from JSON name (invalid if none).
func jsonField(v reflect.Value, name string) reflect.Value {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if found := jsonField(v.Field(i), name); found.IsValid() {
				return found
			}
		}
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name && f.IsExported() {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}
