package openapi

import (
	"regexp"
	"unicode/utf8"

	"github.com/kafkaplane/kafkaplane"
	"github.com/kafkaplane/kafkaplane/apierr"
)

// Name rules from RAM's parameter tables: user names are 1–64 letters,
// digits, periods, underscores and hyphens (doc-detail/28754); policy names
// 1–128 letters, digits and hyphens (api-ram-2015-05-01-createpolicy).
var (
	ramUserNameRE   = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	ramPolicyNameRE = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	// A mobile phone is "<country code>-<number>", e.g. 86-18600008888.
	ramMobileRE = regexp.MustCompile(`^[0-9]{1,6}-[0-9]{4,20}$`)
	ramEmailRE  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// Group names are 1–64 letters, digits, periods, underscores and hyphens
// (api-ram-2015-05-01-creategroup).
var ramGroupNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func ramCheckUserName(v string, chars, length apierr.Def) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 64 {
		return length.New()
	}
	if !ramUserNameRE.MatchString(v) {
		return chars.New()
	}
	return nil
}

func ramCheckLength(v string, limit int, d apierr.Def) error {
	if utf8.RuneCountInString(v) > limit {
		return d.New()
	}
	return nil
}

func ramCheckFormat(v string, re *regexp.Regexp, d apierr.Def) error {
	if v != "" && !re.MatchString(v) {
		return d.New()
	}
	return nil
}

func ramCheckPolicyName(v string) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 128 {
		return apierr.RAMPolicyNameLength.New()
	}
	if !ramPolicyNameRE.MatchString(v) {
		return apierr.RAMPolicyNameChars.New()
	}
	return nil
}

func ramCheckPolicyType(v string) error {
	if v != kafkaplane.PolicyTypeSystem && v != kafkaplane.PolicyTypeCustom {
		return apierr.RAMPolicyType.Errorf(`The parameter - "PolicyType" is incorrect: %q is not System or Custom.`, v)
	}
	return nil
}

func ramFirstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func ramCheckGroupName(v string, chars, length apierr.Def) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > 64 {
		return length.New()
	}
	if !ramGroupNameRE.MatchString(v) {
		return chars.New()
	}
	return nil
}
