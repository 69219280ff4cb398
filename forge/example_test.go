package forge_test

import (
	"context"
	"fmt"
	"time"

	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/forge"
)

// Example shows a job's round trip: read the PR, read what it changes, post
// a status at its head and read the combined state back.
func Example() {
	srv := giteafake.New(giteafake.Options{Tokens: map[string]string{"tok": "qemgate-bot"}})
	defer srv.Close()
	_ = srv.AddUser(giteafake.User{Login: "qemgate-bot"})
	_ = srv.AddUser(giteafake.User{Login: "carol"})
	_, _ = srv.AddRepo(giteafake.Repo{Owner: "carol", Name: "SLFO", ObjectFormat: "sha256", Writers: []string{"qemgate-bot"}})
	_, _ = srv.OpenPull(giteafake.PullOptions{Owner: "carol", Repo: "SLFO", Author: "carol", Head: "update", Title: "Update hello",
		Files: map[string]string{"_patchinfo": "<patchinfo/>"}})

	f, err := forge.New(forge.Config{URL: srv.URL(), Token: "tok", Timeout: 5 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	pr, err := f.GetPull(ctx, "carol/SLFO", 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	files, _ := f.PullFiles(ctx, "carol/SLFO", 1)
	patchinfo, _ := f.RawFile(ctx, "carol/SLFO", pr.HeadSHA, "_patchinfo")
	err = f.CreateStatus(ctx, "carol/SLFO", pr.HeadSHA, forge.StatusInput{State: "pending", Context: "qam-openqa", Description: "openQA tests scheduled"})
	if err != nil {
		fmt.Println(err)
		return
	}
	cs, _ := f.CombinedStatus(ctx, "carol/SLFO", pr.HeadSHA)
	fmt.Println(pr.Title, len(pr.HeadSHA), files[0].Filename, string(patchinfo))
	fmt.Println(cs.State, cs.Statuses[0].Context, cs.Statuses[0].Creator)

	_, err = f.GetPull(ctx, "carol/SLFO", 2)
	fmt.Println(forge.IsNotFound(err), forge.IsRetryable(err))
	// Output:
	// Update hello 64 _patchinfo <patchinfo/>
	// pending qam-openqa qemgate-bot
	// true false
}
