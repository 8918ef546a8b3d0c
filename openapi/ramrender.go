package openapi

import (
	"time"

	"github.com/kafkaplane/kafkaplane"
)

// ramTime formats a date the way RAM answers it: 2015-01-23T12:33:18Z.
func ramTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func ramUserObject(u *kafkaplane.User) Object {
	return Object{
		{"UserId", u.UserID},
		{"UserName", u.UserName},
		{"DisplayName", u.DisplayName},
		{"MobilePhone", u.MobilePhone},
		{"Email", u.Email},
		{"Comments", u.Comments},
		{"CreateDate", ramTime(u.CreateDate)},
		{"UpdateDate", ramTime(u.UpdateDate)},
	}
}

func ramPolicyObject(p *kafkaplane.Policy) Object {
	return Object{
		{"PolicyName", p.PolicyName},
		{"PolicyType", p.PolicyType},
		{"Description", p.Description},
		{"DefaultVersion", p.DefaultVersion},
		{"CreateDate", ramTime(p.CreateDate)},
		{"UpdateDate", ramTime(p.UpdateDate)},
		{"AttachmentCount", p.AttachmentCount},
	}
}

func ramGroupObject(g *kafkaplane.Group) Object {
	return Object{
		{"GroupId", g.GroupID},
		{"GroupName", g.GroupName},
		{"Comments", g.Comments},
		{"CreateDate", ramTime(g.CreateDate)},
		{"UpdateDate", ramTime(g.UpdateDate)},
	}
}
